import { Hono } from 'hono';
import type { Config } from '../shared/config/config.ts';
import { runnerDocument } from '../shared/openapi/document.ts';
import { createGatewayApp, GATEWAY_ALIASES } from './gateway.ts';

type App = { fetch: (request: Request) => Response | Promise<Response> };

/**
 * What `npm start` serves: the gateway (every function under `/function/<name>`
 * and the contract's aliases), the dashboard at `/dashboard`, and the OpenAPI
 * document of all of it at `/openapi.json`.
 *
 * @example serve({ fetch: createLocalApp({ ingest, process, stats }, config).fetch })
 */
export function createLocalApp(functions: { ingest: App; process: App; stats: App }, config: Config) {
  const gateway = createGatewayApp(functions);
  const document = runnerDocument(config.limits, GATEWAY_ALIASES);
  return new Hono({ strict: false })
    .get('/openapi.json', (c) => c.json(document))
    .all('*', (c) => gateway.fetch(c.req.raw));
}
