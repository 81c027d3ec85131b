import { createIngestApp } from '../functions/ingest/app.ts';
import { createProcessApp } from '../functions/process/app.ts';
import { createBatchProcessor } from '../functions/process/batch-processor.ts';
import { startPoller } from '../functions/process/poller.ts';
import { createStatsApp } from '../functions/stats/app.ts';
import { loadConfig } from '../shared/config/config.ts';
import { createLogger } from '../shared/log/logger.ts';
import { outcomePublisher } from '../shared/queue/outcomes.ts';
import { runFunction } from '../shared/runtime/run-function.ts';
import { createLocalApp } from './local-app.ts';
import { zeroSetup, ZeroSetupError } from './zero-setup.ts';

// `npm start`: the three functions on one port and WORKERS claim loops, in one process,
// with PostgreSQL and Redis started here when none is given and none answers.

/** The log level before the config is read for good; a bad value is reported by runFunction. */
function bootLogLevel(): string {
  try {
    return loadConfig(process.env).logLevel;
  } catch {
    return 'info';
  }
}

const setup = await zeroSetup(process.env, createLogger('local', bootLogLevel())).catch((error: unknown) => {
  if (!(error instanceof ZeroSetupError)) throw error;
  console.error(error.message);
  return process.exit(1);
});
// The URLs of what was started become the config's, as if the operator had given them.
Object.assign(process.env, setup.env);

await runFunction('local', { redis: true, db: true }, (resources) => {
  const processBatch = createBatchProcessor({ ...resources, onCommitted: outcomePublisher(resources.redis, resources.config.queuePrefix, resources.logger) });
  const poller = startPoller({ ...resources, processBatch }, resources.config.workers);
  const app = createLocalApp({
    ingest: createIngestApp(resources),
    process: createProcessApp({ ...resources, processBatch }),
    stats: createStatsApp(resources),
  }, resources.config);
  return {
    fetch: app.fetch,
    onStop: async () => {
      await poller.stop();
      await setup.stop();
    },
  };
});
