import type { EventLimits } from '../event/event.schema.ts';
import { bodySchemas } from './body-schemas.ts';
import { functionPaths, securitySchemes, type FunctionName, type Operation, type Paths } from './operations.ts';

export type { FunctionName } from './operations.ts';

export type OpenApiDocument = {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  paths: Paths;
  components: { schemas: ReturnType<typeof bodySchemas>; securitySchemes: typeof securitySchemes };
};

const VERSION = '0.1.0';
const FUNCTIONS: FunctionName[] = ['ingest', 'process', 'stats'];

function documentOf(title: string, description: string, paths: Paths, limits: EventLimits): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: { title, version: VERSION, description },
    paths,
    components: { schemas: bodySchemas(limits), securitySchemes },
  };
}

/**
 * The OpenAPI 3.1 document of one function run alone, at its own root, with the
 * event rules of the configured limits.
 *
 * @example app.get('/openapi.json', (c) => c.json(functionDocument('stats', config.limits)))
 */
export function functionDocument(name: FunctionName, limits: EventLimits): OpenApiDocument {
  return documentOf(`Event aggregator: ${name}`, `The ${name} function, at its own root.`, functionPaths(name), limits);
}

/** The same operation under another path: operation ids stay unique in one document. */
function renamed(item: Paths[string], prefix: string): Paths[string] {
  return Object.fromEntries(
    Object.entries(item).map(([method, op]) => [method, { ...(op as Operation), operationId: `${prefix}_${(op as Operation).operationId}` }]),
  );
}

/**
 * The document of the local runner: every function under `/function/<name>`, as
 * an OpenFaaS gateway serves it, each alias at the root (an alias reaches the
 * same path of its function), and `/openapi.json` itself.
 *
 * @example runnerDocument(config.limits, { '/publish': 'ingest', '/stats': 'stats' })
 */
export function runnerDocument(limits: EventLimits, aliases: Record<string, FunctionName>): OpenApiDocument {
  const paths: Paths = {};
  for (const name of FUNCTIONS) {
    for (const [path, item] of Object.entries(functionPaths(name))) paths[`/function/${name}${path === '/' ? '' : path}`] = renamed(item, name);
  }
  for (const [alias, name] of Object.entries(aliases)) {
    // `/x/*` stands for /x and every route under it.
    const prefix = alias.endsWith('/*') ? alias.slice(0, -2) : null;
    const covered = Object.entries(functionPaths(name)).filter(([path]) => path === (prefix ?? alias) || (prefix !== null && path.startsWith(`${prefix}/`)));
    if (covered.length === 0) throw new Error(`alias ${alias}: the ${name} function has no such route`);
    for (const [path, item] of covered) paths[path] = renamed(item, 'alias');
  }
  paths['/openapi.json'] = {
    get: { operationId: 'runner_openapi', summary: 'this document', tags: ['runner'], responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { $ref: '#/components/schemas/OpenApiDocument' } } } } } },
  };
  return documentOf('Event aggregator: local runner', 'The three functions and the poller on one port (npm start).', paths, limits);
}
