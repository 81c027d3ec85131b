import { parentPort } from 'node:worker_threads';
import { createProcessFunction } from '../functions/process/process-function.ts';
import { loadConfigOrExit } from '../shared/config/config.ts';
import { createDb } from '../shared/db/database.ts';
import { createLogger } from '../shared/log/logger.ts';
import { createMetrics } from '../shared/metrics/metrics.ts';
import { queueFromConfig } from '../shared/queue/queue.ts';
import { createRedisClient, readyWithin } from '../shared/queue/redis.ts';
import { settledWithin } from '../shared/runtime/backoff.ts';
import { readinessOf } from '../shared/runtime/readiness.ts';
import { logRedisConnection } from '../shared/runtime/redis-connection.ts';
import type { FromStorage, ToStorage } from './storage-messages.ts';

// npm start's storage thread (runner/storage-thread.ts starts it): the claim loops on an event loop
// and a core of their own, with their own Redis connection and PostgreSQL pool, as the process
// function runs them. The main thread has migrated the schema before it starts this.

const port = parentPort;
if (!port) throw new Error('runner/storage-worker.ts runs as a worker thread of runner/local.ts');

const config = loadConfigOrExit(process.env);
const logger = createLogger('process', config.logLevel);
const metrics = createMetrics('process');
const redis = createRedisClient(config, 'process');
logRedisConnection(redis, logger);
const db = createDb(config.databaseUrl, config.dbPoolSize, 'aggregator-process');
const queue = queueFromConfig(redis, config);
const processFunction = createProcessFunction({ db, queue, config, logger, metrics, readiness: readinessOf({ redis, db }) });
// A client without an offline queue refuses commands until it is connected: the first claims would fail.
await readyWithin(redis, 5_000);
const poller = processFunction.startPoller();

// Only the aggregator's own metrics: the runtime's (memory, CPU, event loop) are the whole process's, which the main thread reports.
const ownMetrics = async () => (await metrics.registry.getMetricsAsJSON()).filter((m) => m.name.startsWith('aggregator_'));

async function stop() {
  await poller.stop(); // unfinished batches are handed back to the queue
  // A short wait: the main thread closes its own clients after this, within the same SHUTDOWN_TIMEOUT_MS,
  // and a connection left open here (a transaction stuck on a lock) ends with the thread anyway.
  await settledWithin(Promise.allSettled([redis.quit(), db.destroy()]), Math.min(500, config.shutdownTimeoutMs / 10));
  process.exit(0); // in a worker thread this ends the thread only
}

const say = (message: FromStorage) => port.postMessage(message);
port.on('message', (message: ToStorage) => {
  if (message.type === 'stop') void stop();
  else void ownMetrics().then((found) => say({ type: 'metrics', id: message.id, metrics: found }));
});
say({ type: 'started' });
