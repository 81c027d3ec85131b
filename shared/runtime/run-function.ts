import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Redis } from 'ioredis';
import { ConfigError, loadConfig, type Config } from '../config/config.ts';
import { createDb, type Db } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { createMetrics, type Metrics } from '../metrics/metrics.ts';
import { watchQueue } from '../metrics/queue-gauges.ts';
import { EventQueue } from '../queue/queue.ts';
import { createRedis, readyWithin } from '../queue/redis.ts';
import type { Readiness } from '../http/ops-routes.ts';
import { backoffMs, settledWithin, sleep } from './backoff.ts';
import { readinessOf } from './readiness.ts';

export type Resources<Needs extends { redis: boolean; db: boolean }> = {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
} & (Needs['redis'] extends true ? { redis: Redis; queue: EventQueue } : unknown) &
  (Needs['db'] extends true ? { db: Db } : unknown);

/**
 * What a function runs. On SIGTERM, `onStop` (its background work, such as the
 * poller) stops alongside the requests in flight; `onClosed` (what it brought up
 * for itself, such as the runner's embedded servers) runs only after both are done
 * and the clients are closed, so no request or batch loses its Redis or PostgreSQL.
 */
export type Running = {
  fetch: (request: Request) => Response | Promise<Response>;
  onStop?: () => Promise<void>;
  onClosed?: () => Promise<void>;
};

/** Runs migrations, waiting for PostgreSQL with backoff: a function cannot serve without its schema. */
async function migrateWhenReachable(db: Db, logger: Logger) {
  for (let attempt = 0; ; attempt++) {
    try {
      const applied = await migrateToLatest(db);
      if (applied.length > 0) logger.info({ migrations: applied }, 'Applied database migrations');
      return;
    } catch (error) {
      const cause = (error as Error).cause ?? error;
      if ((cause as { code?: string }).code?.startsWith('42')) throw error; // a broken migration, not an outage
      logger.warn({ err: String(cause), attempt: attempt + 1 }, 'Waiting for PostgreSQL to migrate the schema');
      await sleep(backoffMs(attempt, 200, 5_000));
    }
  }
}

/**
 * The thin runtime around a function's app: reads the config, opens the clients
 * the function needs, migrates, listens on PORT, and on SIGTERM or SIGINT stops
 * taking requests, lets them and `onStop` finish in-flight work, closes the
 * clients, then runs `onClosed` and exits, all within SHUTDOWN_TIMEOUT_MS.
 *
 * @example await runFunction('ingest', { redis: true, db: false }, (r) => createIngestApp(r))
 */
export async function runFunction<const Needs extends { redis: boolean; db: boolean }>(
  name: string,
  needs: Needs,
  start: (resources: Resources<Needs>) => Running | Promise<Running>,
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  const logger = createLogger(name, config.logLevel);
  const metrics = createMetrics();

  const redis = needs.redis ? createRedis(config.redisUrl, name) : undefined;
  let redisDown = false;
  redis?.on('error', (error) => {
    if (!redisDown) logger.warn({ err: String(error) }, 'Redis connection lost; reconnecting');
    redisDown = true;
  });
  redis?.on('ready', () => {
    if (redisDown) logger.info('Redis connection is back');
    redisDown = false;
  });
  const db = needs.db ? createDb(config.databaseUrl, config.dbPoolSize, `aggregator-${name}`) : undefined;

  if (redis && !(await readyWithin(redis, 5_000))) logger.warn({ redis: config.redisUrl.replace(/\/\/[^@]*@/, '//***@') }, 'Redis is not reachable yet; starting anyway');
  if (db) await migrateWhenReachable(db, logger);

  const resources = {
    config, logger, metrics,
    readiness: readinessOf({ ...(redis ? { redis } : {}), ...(db ? { db } : {}) }),
    ...(redis ? { redis, queue: new EventQueue(redis, config.queuePrefix) } : {}),
    ...(db ? { db } : {}),
  } as unknown as Resources<Needs>;
  if ('queue' in resources) watchQueue(metrics, resources.queue as EventQueue);
  const running = await start(resources);

  const server = serve({ fetch: running.fetch, port: config.port, serverOptions: {
    // Slow or stalled clients are cut off instead of holding a connection; Node only looks every 30 s unless told.
    requestTimeout: config.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, config.requestTimeoutMs / 4),
  } }, (info: AddressInfo) => {
    logger.info({ port: info.port }, `${name} listening`);
  });

  let stopping = false;
  async function shutdown(signal: string) {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Shutting down');
    const deadline = setTimeout(() => {
      logger.error({ timeout_ms: config.shutdownTimeoutMs }, 'Shutdown deadline passed; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    // Requests in flight get half the budget (a stalled client must not hold back the rest);
    // the background work stops meanwhile, not after.
    const requestsDone = new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([
      settledWithin(requestsDone, config.shutdownTimeoutMs / 2).then((done) => {
        if (!done && 'closeAllConnections' in server) server.closeAllConnections();
      }),
      running.onStop?.(),
    ]);
    // A client stuck in a statement would hold the pool open: close what closes in time, then go.
    await settledWithin(Promise.allSettled([redis?.quit(), db?.destroy()]), Math.min(2_000, config.shutdownTimeoutMs / 4));
    await running.onClosed?.().catch((error: unknown) => logger.error({ err: error }, 'Closing failed'));
    logger.info('Stopped');
    process.exit(0);
  }
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
