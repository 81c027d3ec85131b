import * as v from 'valibot';
import { jsonSchemaOf, type JsonSchema } from './json-schema.ts';
import { badRequest, eventsErrors, json, named, unauthorized, type ResponseDoc } from './responses.ts';
import { describedRoutes, type AppRoute, type RouteDoc, type RouteGuard } from './route-doc.ts';

type Response = { description: string; headers?: Record<string, JsonSchema>; content: Record<string, { schema: JsonSchema }> };

export type Operation = {
  operationId: string;
  summary: string;
  tags: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: JsonSchema[];
  requestBody?: JsonSchema;
  responses: Record<string, Response>;
};

/** path → method → operation, as under `paths` of an OpenAPI document. */
export type Paths = Record<string, Partial<Record<'get' | 'post', Operation>>>;

/** How a key is presented where one is needed (shared/http/api-key.ts). */
const securitySchemes = {
  bearer: { type: 'http', scheme: 'bearer', description: 'one of INGEST_API_KEYS or READ_API_KEYS' },
  apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'the same keys, in a header' },
};

// A route takes a key only when INGEST_API_KEYS or READ_API_KEYS is set: `{}` means none.
const KEYED: Array<Record<string, string[]>> = [{ bearer: [] }, { apiKey: [] }, {}];

export type OpenApiDocument = {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  paths: Paths;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: typeof securitySchemes };
};

/** The description of a route that serves its app's OpenAPI document. */
export const openApiRoute: RouteDoc = {
  summary: 'this document',
  responses: {
    200: json('OpenAPI 3.1', named('OpenApiDocument', v.looseObject({ openapi: v.string(), info: v.looseObject({}), paths: v.looseObject({}) }), 'this document')),
  },
};

const VERSION = '0.1.0';

const mapValues = <T, U>(record: Record<string, T>, f: (value: T) => U): Record<string, U> =>
  Object.fromEntries(Object.entries(record).map(([key, value]) => [key, f(value)]));

// `post /dead-letters/{id}/replay` → `postDeadLettersIdReplay`: unique as long as method and path are.
const operationId = (method: string, path: string) =>
  [method, ...(path.match(/[A-Za-z0-9]+/g) ?? ['root'])].map((word, i) => (i === 0 ? word : word[0]!.toUpperCase() + word.slice(1))).join('');

function operationOf(method: string, path: string, doc: RouteDoc & RouteGuard, tag: string, components: Record<string, JsonSchema>): Operation {
  const schema = (s: v.GenericSchema) => jsonSchemaOf(s, components);
  const pathParameters = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => {
    const description = doc.params?.[name!];
    if (description === undefined) throw new Error(`${method} ${path}: describe the path parameter ${name}`);
    return { name, in: 'path', required: true, description, schema: { type: 'string' } };
  });
  const queryParameters = Object.entries(doc.query?.entries ?? {}).map(([name, entry]) => {
    // A parameter's description belongs to the parameter, not to its schema.
    const { description, ...rest } = schema(entry);
    return { name, in: 'query', required: entry.type !== 'optional', ...(description === undefined ? {} : { description }), schema: rest };
  });
  const responses: Record<number, ResponseDoc> = { ...(doc.events ? eventsErrors : {}), ...doc.responses };
  if (doc.events || doc.query) responses[400] = badRequest(doc.events !== undefined, doc.query !== undefined);
  if (doc.key) responses[401] = unauthorized;
  const parameters = [...pathParameters, ...queryParameters];
  return {
    operationId: operationId(method, path),
    summary: doc.summary,
    tags: [tag],
    ...(doc.key ? { security: KEYED } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc.events
      ? { requestBody: { required: true, description: 'Content-Encoding: gzip is accepted', content: mapValues(doc.events, (s) => ({ schema: schema(s) })) } }
      : {}),
    responses: mapValues(responses, (r) => ({
      description: r.description,
      ...(r.headers ? { headers: mapValues(r.headers, (h) => ({ description: h.description, required: true, schema: schema(h.schema) })) } : {}),
      content: mapValues(r.content, (s) => ({ schema: schema(s) })),
    })),
  };
}

/** Routes of one app (or of a part of one), whose operations take `tag`. */
export type DocumentPart = { tag: string; routes: readonly AppRoute[] };

/**
 * The OpenAPI 3.1 document of the routes of `parts`, made from the description
 * beside each handler (describeRoute) and the valibot schemas they name.
 *
 * @example openApiDocument({ title: 'Event aggregator: stats', description: '...' }, [{ tag: 'stats', routes: app.routes }])
 */
export function openApiDocument(info: { title: string; description: string }, parts: DocumentPart[]): OpenApiDocument {
  const paths: Paths = {};
  const components: Record<string, JsonSchema> = {};
  for (const { tag, routes } of parts) {
    for (const { method, path: honoPath, doc } of describedRoutes(routes)) {
      // Hono writes a path parameter `:id`, OpenAPI `{id}`.
      const path = honoPath.replace(/:(\w+)/g, '{$1}');
      const lower = method.toLowerCase() as 'get' | 'post';
      paths[path] = { ...paths[path], [lower]: operationOf(lower, path, doc, tag, components) };
    }
  }
  return { openapi: '3.1.0', info: { ...info, version: VERSION }, paths, components: { schemas: components, securitySchemes } };
}

/**
 * The document of one function run alone, at its own root.
 *
 * @example app.get('/openapi.json', (c) => c.json(functionDocument('stats', app)))
 */
export const functionDocument = (name: string, app: { routes: readonly AppRoute[] }) =>
  openApiDocument({ title: `Event aggregator: ${name}`, description: `The ${name} function, at its own root.` }, [{ tag: name, routes: app.routes }]);
