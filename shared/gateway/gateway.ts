import { Hono } from 'hono';
import { notFound } from '../http/error-handler.ts';
import { instrument, uninstrumented } from '../http/instrument.ts';
import type { Metrics } from '../metrics/metrics.ts';

type App = { fetch: (request: Request) => Response | Promise<Response> };
type FunctionName = 'ingest' | 'process' | 'stats';

/**
 * The root aliases and the function that answers each, at the same path. Health,
 * readiness and metrics of the whole process go to stats, which checks both dependencies.
 */
export const GATEWAY_ALIASES = {
  '/publish': 'ingest',
  '/stats': 'stats',
  '/events': 'stats',
  '/healthz': 'stats',
  '/readyz': 'stats',
  '/metrics': 'stats',
  '/dashboard': 'stats',
  '/status': 'stats',
  '/dead-letters/*': 'stats', // the list, and each letter's replay and drop under it
} as const satisfies Record<string, FunctionName>;

// A request re-addressed to a function's own path, as an OpenFaaS gateway strips `/function/<name>`.
const forward = (app: App, request: Request, path: string) => {
  const url = new URL(request.url);
  url.pathname = path;
  return app.fetch(new Request(url, request));
};

/**
 * One port for all three functions, as on an OpenFaaS gateway: `/function/<name>/...`
 * reaches the function at its own path, and the aliases (`/publish`, `/stats`,
 * `/events`, ...) reach theirs. With `metrics`, a path that reaches no function (a 404 of the
 * gateway's own) is counted there; the functions count the requests they answer.
 *
 * @example serve({ fetch: createGatewayApp({ ingest, process, stats }).fetch })
 */
export function createGatewayApp(functions: Record<FunctionName, App>, options: { metrics?: Metrics } = {}) {
  const app = new Hono({ strict: false });
  for (const [name, fn] of Object.entries(functions)) {
    app.all(`/function/${name}`, (c) => forward(fn, c.req.raw, '/'));
    app.all(`/function/${name}/*`, (c) => forward(fn, c.req.raw, c.req.path.slice(`/function/${name}`.length)));
  }
  for (const [path, name] of Object.entries(GATEWAY_ALIASES)) app.all(path, (c) => functions[name].fetch(c.req.raw));
  // Last, so it runs only for a path no route above answered.
  app.all('*', options.metrics ? instrument(options.metrics) : uninstrumented, notFound);
  return app;
}
