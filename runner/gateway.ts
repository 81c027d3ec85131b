import { Hono } from 'hono';
import { notFound } from '../shared/http/error-handler.ts';

type App = { fetch: (request: Request) => Response | Promise<Response> };

// A request re-addressed to a function's own path, as an OpenFaaS gateway strips `/function/<name>`.
const forward = (app: App, request: Request, path: string) => {
  const url = new URL(request.url);
  url.pathname = path;
  return app.fetch(new Request(url, request));
};

/**
 * One port for all three functions, as on an OpenFaaS gateway: `/function/<name>/...`
 * reaches the function at its own path, and the contract's aliases (`/publish`,
 * `/stats`, `/events`, `/healthz`, `/readyz`, `/metrics`) reach theirs.
 *
 * @example serve({ fetch: createGatewayApp({ ingest, process, stats }).fetch })
 */
export function createGatewayApp(functions: { ingest: App; process: App; stats: App }) {
  const app = new Hono({ strict: false });
  for (const [name, fn] of Object.entries(functions)) {
    app.all(`/function/${name}`, (c) => forward(fn, c.req.raw, '/'));
    app.all(`/function/${name}/*`, (c) => forward(fn, c.req.raw, c.req.path.slice(`/function/${name}`.length)));
  }
  app.all('/publish', (c) => forward(functions.ingest, c.req.raw, '/publish'));
  for (const path of ['/stats', '/events']) app.all(path, (c) => forward(functions.stats, c.req.raw, path));
  // Health, readiness and metrics of the whole process: the stats function checks both dependencies.
  for (const path of ['/healthz', '/readyz', '/metrics']) app.all(path, (c) => forward(functions.stats, c.req.raw, path));
  app.notFound(notFound);
  return app;
}
