import type { Config } from '../../shared/config/config.ts';
import type { Db } from '../../shared/db/database.ts';
import type { Readiness } from '../../shared/http/ops-routes.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { Metrics } from '../../shared/metrics/metrics.ts';
import { outcomePublisher } from '../../shared/queue/outcomes.ts';
import type { EventQueue } from '../../shared/queue/queue.ts';
import { createProcessApp } from './app.ts';
import { createBatchProcessor, type BatchProcessorDeps } from './batch-processor.ts';
import { startPoller } from './poller.ts';

export type ProcessFunctionDeps = {
  config: Config;
  db: Db;
  queue: EventQueue;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  onCommitted?: BatchProcessorDeps['onCommitted'];
};

/**
 * The process function wired once: one batch processor shared by the HTTP trigger
 * (`app`) and the poller, which the caller starts (the server at once, a test when
 * it wants one). `server.ts`, the local runner and the tests all build it here.
 *
 * @example const { app, startPoller } = createProcessFunction(resources); const poller = startPoller()
 */
export function createProcessFunction(deps: ProcessFunctionDeps) {
  // Publishers waiting on `?wait=true` hear of their events through Redis, whichever process stored them.
  const onCommitted = deps.onCommitted ?? outcomePublisher(deps.queue.redis, deps.queue.prefix, deps.logger);
  const processBatch = createBatchProcessor({ ...deps, onCommitted });
  return {
    processBatch,
    app: createProcessApp({ ...deps, processBatch }),
    startPoller: (workers = deps.config.workers) => startPoller({ ...deps, processBatch }, workers),
  };
}
