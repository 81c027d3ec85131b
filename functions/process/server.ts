import { outcomePublisher } from '../../shared/queue/outcomes.ts';
import { runFunction } from '../../shared/runtime/run-function.ts';
import { createProcessApp } from './app.ts';
import { createBatchProcessor } from './batch-processor.ts';
import { startPoller } from './poller.ts';

// The poller runs beside the HTTP trigger: a platform that sends the function no
// traffic must still drain the queue (so it must not scale this to zero).
await runFunction('process', { redis: true, db: true }, (resources) => {
  const processBatch = createBatchProcessor({ ...resources, onCommitted: outcomePublisher(resources.redis, resources.config.queuePrefix, resources.logger) });
  const poller = startPoller({ ...resources, processBatch }, resources.config.workers);
  const app = createProcessApp({ ...resources, processBatch });
  return { fetch: app.fetch, onStop: () => poller.stop() };
});
