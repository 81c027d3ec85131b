import { createIngestApp } from '../functions/ingest/app.ts';
import { createProcessApp } from '../functions/process/app.ts';
import { createBatchProcessor } from '../functions/process/batch-processor.ts';
import { startPoller } from '../functions/process/poller.ts';
import { createStatsApp } from '../functions/stats/app.ts';
import { runFunction } from '../shared/runtime/run-function.ts';
import { createGatewayApp } from './gateway.ts';

// `npm start`: the three functions on one port and WORKERS claim loops, in one process.
await runFunction('local', { redis: true, db: true }, (resources) => {
  const processBatch = createBatchProcessor(resources);
  const poller = startPoller({ ...resources, processBatch }, resources.config.workers);
  const gateway = createGatewayApp({
    ingest: createIngestApp(resources),
    process: createProcessApp({ ...resources, processBatch }),
    stats: createStatsApp(resources),
  });
  return { fetch: gateway.fetch, onStop: () => poller.stop() };
});
