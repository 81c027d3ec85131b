import { Hono } from 'hono';
import type { Config } from '../shared/config/config.ts';
import { runnerDocument } from '../shared/openapi/document.ts';
import { createGatewayApp } from './gateway.ts';

type App = { fetch: (request: Request) => Response | Promise<Response> };

// Root aliases the gateway serves, plus the dashboard's two (same path on the stats function).
const ALIASES = {
  '/publish': 'ingest',
  '/stats': 'stats',
  '/events': 'stats',
  '/healthz': 'stats',
  '/readyz': 'stats',
  '/metrics': 'stats',
  '/dashboard': 'stats',
  '/status': 'stats',
} as const;

/**
 * What `npm start` serves: the gateway (every function under `/function/<name>`
 * and the contract's aliases), the dashboard at `/dashboard`, and the OpenAPI
 * document of all of it at `/openapi.json`.
 *
 * @example serve({ fetch: createLocalApp({ ingest, process, stats }, config).fetch })
 */
export function createLocalApp(functions: { ingest: App; process: App; stats: App }, config: Config) {
  const gateway = createGatewayApp(functions);
  const document = runnerDocument(config.limits, ALIASES);
  return new Hono({ strict: false })
    .get('/openapi.json', (c) => c.json(document))
    // The stats function answers these at the same path, so the request goes to it as it is.
    .get('/dashboard', (c) => functions.stats.fetch(c.req.raw))
    .get('/status', (c) => functions.stats.fetch(c.req.raw))
    .all('*', (c) => gateway.fetch(c.req.raw));
}
