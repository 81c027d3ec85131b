import { createIngestApp } from '../functions/ingest/app.ts';
import { createProcessFunction } from '../functions/process/process-function.ts';
import { createStatsApp } from '../functions/stats/app.ts';
import { loadConfig } from '../shared/config/config.ts';
import { createLogger } from '../shared/log/logger.ts';
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
  const processFunction = createProcessFunction(resources);
  const poller = processFunction.startPoller();
  const app = createLocalApp({
    ingest: createIngestApp(resources),
    process: processFunction.app,
    stats: createStatsApp(resources),
  }, resources.config);
  return {
    fetch: app.fetch,
    onStop: () => poller.stop(),
    // The embedded servers go last: requests and batches in flight still use them until they end.
    onClosed: () => setup.stop(),
  };
});
