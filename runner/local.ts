import { createIngestApp } from '../functions/ingest/app.ts';
import { createProcessFunction } from '../functions/process/process-function.ts';
import { createStatsApp } from '../functions/stats/app.ts';
import { loadConfigOrExit } from '../shared/config/config.ts';
import { createLogger } from '../shared/log/logger.ts';
import { forFunction } from '../shared/metrics/metrics.ts';
import { OutcomeWaiter } from '../shared/queue/outcomes.ts';
import { runFunction } from '../shared/runtime/run-function.ts';
import { JoinedRegistry } from './joined-registry.ts';
import { createLocalApp } from './local-app.ts';
import { startStorageThread } from './storage-thread.ts';
import { zeroSetup, ZeroSetupError } from './zero-setup.ts';

// `npm start`: the three functions on one port, and WORKERS claim loops in a thread of their own
// (runner/storage-thread.ts), in one process, with PostgreSQL and Redis started here when none is
// given and none answers.

// A bad setting stops the start before any server is started for it.
const { logLevel } = loadConfigOrExit(process.env);
const setup = await zeroSetup(process.env, createLogger('runner', logLevel)).catch((error: unknown) => {
  if (!(error instanceof ZeroSetupError)) throw error;
  console.error(error.message);
  return process.exit(1);
});
// The URLs of what was started become the config's, as if the operator had given them.
Object.assign(process.env, setup.env);

await runFunction('runner', { redis: true, db: true }, async (resources) => {
  const storage = await startStorageThread(createLogger('process', resources.config.logLevel));
  // Every function serves the metrics of the whole process, the storage thread's included.
  const registry = new JoinedRegistry(resources.metrics.registry, () => storage.metrics());
  // Each function's lines and request metrics carry its own name, as when it runs alone.
  const as = (name: 'ingest' | 'process' | 'stats') => ({
    ...resources,
    logger: createLogger(name, resources.config.logLevel),
    metrics: { ...forFunction(resources.metrics, name), registry },
  });
  // The claim loops run in the storage thread; the HTTP trigger (POST /function/process) stores on
  // this thread, as its request waits for the result.
  const processFunction = createProcessFunction(as('process'));
  // Owned here, so a stop ends the waits at once (each answers 202) before the connections close.
  const outcomes = new OutcomeWaiter(resources.redis, resources.config.queuePrefix);
  const app = createLocalApp({
    ingest: createIngestApp({ ...as('ingest'), outcomes }),
    process: processFunction.app,
    stats: createStatsApp(as('stats')),
  }, resources.metrics);
  return {
    fetch: app.fetch,
    onStop: async () => {
      await outcomes.close();
      await storage.stop();
    },
    // The embedded servers go last: requests and batches in flight still use them until they end.
    onClosed: () => setup.stop(),
  };
});
