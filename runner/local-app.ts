import { Hono, type MiddlewareHandler } from 'hono';
import { notFound } from '../shared/http/error-handler.ts';
import { instrument, uninstrumented } from '../shared/http/instrument.ts';
import { forFunction, type Metrics } from '../shared/metrics/metrics.ts';
import { GATEWAY_ALIASES } from '../shared/gateway/gateway.ts';
import { openApiDocument, openApiRoute, type DocumentPart } from '../shared/openapi/document.ts';
import { describeRoute } from '../shared/openapi/route-doc.ts';

// Any function's app: each has its own route schema.
type FunctionApp = Hono<any, any, any>;
type FunctionName = 'ingest' | 'process' | 'stats';

/**
 * The routes of a function that answer at `alias` (a path, or `/x/*` for /x and every path under it),
 * with the function's middleware and error handler, each at the path to add it at the root.
 * `route()` is what wraps each handler in the function's `onError`; mounting the function on a
 * scratch app borrows that instead of copying it.
 */
function aliasRoutes(fn: FunctionApp, alias: string) {
  const prefix = alias.endsWith('/*') ? alias.slice(0, -2) : null;
  const reached = (path: string) => path === alias || (prefix !== null && (path === prefix || path.startsWith(`${prefix}/`)));
  const routes = new Hono().route('/', fn).routes.flatMap((route) => {
    // The function's middleware (`/*`) runs for the alias's paths only.
    if (route.path === '/*') return [{ ...route, path: alias }];
    return reached(route.path) ? [route] : [];
  });
  if (!routes.some((route) => route.method !== 'ALL')) throw new Error(`alias ${alias}: the function has no such route`);
  return routes;
}

const claimedBy = (names: readonly string[]) => (path: string) =>
  names.some((name) => path === `/function/${name}` || path.startsWith(`/function/${name}/`));

/**
 * What `npm start` serves, as one Hono app so that a request is routed once: every function
 * mounted under `/function/<name>`, the contract's aliases at the root (each the function's own
 * route, middleware and error handler), the OpenAPI document of all of it at `/openapi.json`, and
 * a 404 in the contract's shape for anything else. With `metrics`, what the runner answers itself
 * (that document, paths no function claims) is counted under `function="runner"`; a path under
 * `/function/<name>` that the function lacks is counted by the function, as when it runs alone.
 *
 * @example serve({ fetch: createLocalApp({ ingest, process, stats }, metrics).fetch })
 */
export function createLocalApp(functions: Record<FunctionName, FunctionApp>, metrics?: Metrics) {
  const own = metrics ? instrument(forFunction(metrics, 'runner')) : uninstrumented;
  const runner = new Hono().get('/openapi.json', own, describeRoute(openApiRoute), (c) => c.json(document));
  // Each part is the routes of one function (or the runner's own), at the paths the runner serves them.
  const parts: DocumentPart[] = [
    { tag: 'runner', routes: runner.routes },
    ...Object.entries(functions).map(([name, fn]) => ({ tag: name, routes: new Hono().route(`/function/${name}`, fn).routes })),
    ...Object.entries(GATEWAY_ALIASES).map(([path, name]) => ({ tag: name, routes: aliasRoutes(functions[name], path) })),
  ];
  const app = new Hono({ strict: false });
  for (const route of parts.flatMap((part) => part.routes)) app.on(route.method, route.path, route.handler);
  const document = openApiDocument({ title: 'Event aggregator: local runner', description: 'The three functions and the poller on one port (npm start).' }, parts);
  const claimed = claimedBy(Object.keys(functions));
  const countUnclaimed: MiddlewareHandler = async function countUnclaimed(c, next) {
    return claimed(c.req.path) ? next() : own(c, next);
  };
  // Last, so it answers only a path no route above answered.
  return app.all('/*', countUnclaimed, notFound);
}
