import { parseArgs } from 'node:util';
import { createGatewayApp } from '../shared/gateway/gateway.ts';
import { runFunction } from '../shared/runtime/run-function.ts';
import { upstream } from './upstream.ts';

// The compose gateway: the same routes as `npm start` (shared/gateway/gateway.ts), each
// forwarded to its function's container, so a path that works locally works here.
// The upstreams come as arguments: `--ingest http://ingest:8080 --process ... --stats ...`.
const { values } = parseArgs({
  options: { ingest: { type: 'string' }, process: { type: 'string' }, stats: { type: 'string' } },
});
const missing = (['ingest', 'process', 'stats'] as const).filter((name) => !values[name]);
if (missing.length > 0) {
  console.error(`gateway: missing ${missing.map((name) => `--${name} <url>`).join(', ')}`);
  process.exit(2);
}

await runFunction('gateway', { redis: false, db: false }, ({ logger }) => ({
  fetch: createGatewayApp({
    ingest: upstream('ingest', values.ingest!, logger),
    process: upstream('process', values.process!, logger),
    stats: upstream('stats', values.stats!, logger),
  }).fetch,
}));
