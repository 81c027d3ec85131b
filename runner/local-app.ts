import { Hono } from 'hono';
import type { Config } from '../shared/config/config.ts';
import { instrument, uninstrumented } from '../shared/http/instrument.ts';
import { forFunction, type Metrics } from '../shared/metrics/metrics.ts';
import { runnerDocument } from '../shared/openapi/document.ts';
import { createGatewayApp, GATEWAY_ALIASES } from './gateway.ts';

type App = { fetch: (request: Request) => Response | Promise<Response> };

/**
 * What `npm start` serves: the gateway (every function under `/function/<name>`
 * and the contract's aliases), the dashboard at `/dashboard`, and the OpenAPI
 * document of all of it at `/openapi.json`. With `metrics`, what the runner answers itself
 * (that document, unknown paths) is counted under `function="runner"`.
 *
 * @example serve({ fetch: createLocalApp({ ingest, process, stats }, config, metrics).fetch })
 */
export function createLocalApp(functions: { ingest: App; process: App; stats: App }, config: Config, metrics?: Metrics) {
  const own = metrics ? forFunction(metrics, 'runner') : undefined;
  const gateway = createGatewayApp(functions, own ? { metrics: own } : {});
  const document = runnerDocument(config.limits, GATEWAY_ALIASES);
  return new Hono({ strict: false })
    .get('/openapi.json', own ? instrument(own) : uninstrumented, (c) => c.json(document))
    .all('*', (c) => gateway.fetch(c.req.raw));
}
