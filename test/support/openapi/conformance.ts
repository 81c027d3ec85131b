import { schemaProblems } from './check-schema.ts';
import type { OpenApiDocument } from '../../../shared/openapi/document.ts';

type Method = 'get' | 'post';

/** The `error` codes an error body's schema allows, or none for other bodies. */
function errorCodes(schema: Record<string, unknown> | undefined): string[] {
  const properties = schema?.properties as { error?: { enum?: string[] } } | undefined;
  return properties?.error?.enum ?? [];
}

/**
 * Every answer a document promises, as `method path status`, or `method path
 * status code` for each error code an error answer may carry, for comparing
 * with what a test produced (see answerOf).
 */
export function documentedAnswers(document: OpenApiDocument): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).flatMap(([method, op]) =>
      Object.entries(op.responses).flatMap(([status, response]) => {
        const codes = errorCodes(response.content['application/json']?.schema);
        return codes.length === 0 ? [`${method} ${path} ${status}`] : codes.map((code) => `${method} ${path} ${status} ${code}`);
      }),
    ),
  );
}

/** A real answer in the form of documentedAnswers (it reads a clone, so the response stays unread). */
export async function answerOf(method: string, path: string, response: Response): Promise<string> {
  const body = (await response.clone().json().catch(() => null)) as { error?: unknown } | null;
  return `${method} ${path} ${response.status}${typeof body?.error === 'string' ? ` ${body.error}` : ''}`;
}

/** Every `method path` a document lists. */
export function documentedRoutes(document: OpenApiDocument): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
}

/**
 * The ways a real response breaks what the document says of `method path`:
 * an undocumented status, another media type, a missing required header, or a
 * body that does not fit its schema. Empty when it conforms.
 *
 * @example expect(await responseProblems(doc, 'get', '/stats', await app.request('/stats'))).toEqual([])
 */
export async function responseProblems(document: OpenApiDocument, method: Method, path: string, response: Response): Promise<string[]> {
  const where = `${method.toUpperCase()} ${path} → ${response.status}`;
  const documented = document.paths[path]?.[method]?.responses[String(response.status)];
  if (!documented) return [`${where}: not documented`];
  const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  const content = documented.content[mediaType];
  if (!content) return [`${where}: answered ${mediaType || 'no content type'}, documented ${Object.keys(documented.content).join(', ')}`];
  const problems: string[] = [];
  for (const [name, header] of Object.entries(documented.headers ?? {})) {
    const value = response.headers.get(name);
    if (value === null) {
      if (header.required === true) problems.push(`${where}: lacks header ${name}`);
    } else {
      problems.push(...schemaProblems(document, header.schema as Record<string, unknown>, value, `header ${name}`).map((p) => `${where}: ${p}`));
    }
  }
  const text = await response.text();
  let body: unknown = text;
  if (mediaType === 'application/json') {
    try {
      body = JSON.parse(text);
    } catch {
      return [...problems, `${where}: the body is not JSON`];
    }
  }
  problems.push(...schemaProblems(document, content.schema, body).map((p) => `${where}: ${p}`));
  return problems;
}
