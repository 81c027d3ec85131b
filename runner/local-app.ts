import { Hono, type ErrorHandler, type MiddlewareHandler } from 'hono';
import { mergePath } from 'hono/utils/url';
import { notFound } from '../shared/http/error-handler.ts';
import { instrument, uninstrumented } from '../shared/http/instrument.ts';
import { forFunction, type Metrics } from '../shared/metrics/metrics.ts';
import { GATEWAY_ALIASES } from '../shared/gateway/gateway.ts';
import { openApiDocument, openApiRoute, type DocumentPart } from '../shared/openapi/document.ts';
import { describeRoute } from '../shared/openapi/route-doc.ts';

// Any function's app: each has its own route schema.
type FunctionApp = Hono<any, any, any>;
type FunctionName = 'ingest' | 'process' | 'stats';

/** Whether `alias` (a path, or `/x/*` for /x and every path under it) answers at `path`. */
function aliasReaches(alias: string, path: string) {
  const prefix = alias.endsWith('/*') ? alias.slice(0, -2) : null;
  return path === alias || (prefix !== null && (path === prefix || path.startsWith(`${prefix}/`)));
}

/**
 * A function's routes under `prefix`, each handler as the function added it. Not through
 * `app.route()`: that wraps every handler and middleware in the function's `onError`, a
 * composition of its own (closures and promises) on each of the four or five steps of every
 * request. The local app's one `onError` hands each error to the function that owns the path.
 */
const mounted = (fn: FunctionApp, prefix: string) => fn.routes.map((route) => ({ ...route, path: mergePath(prefix, route.path) }));

/**
 * The routes of a function that answer at `alias`, with the function's middleware, each at the
 * path to add it at the root.
 */
function aliasRoutes(fn: FunctionApp, alias: string) {
  const routes = fn.routes.flatMap((route) => {
    // The function's middleware (`/*`) runs for the alias's paths only.
    if (route.path === '/*') return [{ ...route, path: alias }];
    return aliasReaches(alias, route.path) ? [route] : [];
  });
  if (!routes.some((route) => route.method !== 'ALL')) throw new Error(`alias ${alias}: the function has no such route`);
  return routes;
}

/**
 * An app's `onError` handler. Hono's types keep it private, but `app.route()` reads it the same
 * way; read once at start, so that a Hono that renamed it fails there rather than at the first error.
 */
function errorHandlerOf(app: FunctionApp): ErrorHandler {
  const handler = (app as unknown as { errorHandler?: unknown }).errorHandler;
  if (typeof handler !== 'function') throw new Error('this Hono has no errorHandler on its apps: runner/local-app.ts needs another way to reach a function\'s onError');
  return handler as ErrorHandler;
}

/** The function a path is under: `/function/<name>` and every path below it. */
const functionUnder = (names: readonly FunctionName[], path: string) =>
  names.find((name) => path === `/function/${name}` || path.startsWith(`/function/${name}/`));

/** The function whose routes answer at `path`: under `/function/<name>`, or at one of its aliases. */
const ownerOf = (names: readonly FunctionName[], path: string): FunctionName | undefined =>
  functionUnder(names, path) ?? Object.entries(GATEWAY_ALIASES).find(([alias]) => aliasReaches(alias, path))?.[1];

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
    ...Object.entries(functions).map(([name, fn]) => ({ tag: name, routes: mounted(fn, `/function/${name}`) })),
    ...Object.entries(GATEWAY_ALIASES).map(([path, name]) => ({ tag: name, routes: aliasRoutes(functions[name], path) })),
  ];
  const app = new Hono({ strict: false });
  for (const route of parts.flatMap((part) => part.routes)) app.on(route.method, route.path, route.handler);
  const document = openApiDocument({ title: 'Event aggregator: local runner', description: 'The three functions and the poller on one port (npm start).' }, parts);
  const names = Object.keys(functions) as FunctionName[];
  const countUnclaimed: MiddlewareHandler = async function countUnclaimed(c, next) {
    return functionUnder(names, c.req.path) ? next() : own(c, next);
  };
  // An error in any step of a request goes to its function's error handler, as when the function runs alone.
  const onError = Object.fromEntries(names.map((name) => [name, errorHandlerOf(functions[name])]));
  const runnerOnError = errorHandlerOf(new Hono());
  app.onError(async (error, c) => {
    const owner = ownerOf(names, c.req.path);
    if (!owner) return runnerOnError(error, c);
    try {
      return await onError[owner]!(error, c);
    } catch (failure) {
      // Answered here, once: thrown on, Hono would hand it to this handler again at every step around.
      return runnerOnError(failure instanceof Error ? failure : new Error(String(failure)), c);
    }
  });
  // Last, so it answers only a path no route above answered.
  return app.all('/*', countUnclaimed, notFound);
}
