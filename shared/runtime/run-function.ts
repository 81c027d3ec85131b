import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { loadConfigOrExit, type Config } from '../config/config.ts';
import { createDb, type Db } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { logRefused } from '../http/error-handler.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { createMetrics, type Metrics } from '../metrics/metrics.ts';
import { watchQueue } from '../metrics/queue-gauges.ts';
import { queueFromConfig, type EventQueue } from '../queue/queue.ts';
import { createRedisClient, readyWithin, redisTarget, type RedisClient } from '../queue/redis.ts';
import type { Readiness } from '../http/ops-routes.ts';
import { backoffMs, settledWithin, sleep } from './backoff.ts';
import { readinessOf } from './readiness.ts';
import { logRedisConnection } from './redis-connection.ts';
import { logStart } from './start-line.ts';

export type Resources<Needs extends { redis: boolean; db: boolean }> = {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
} & (Needs['redis'] extends true ? { redis: RedisClient; queue: EventQueue } : unknown) &
  (Needs['db'] extends true ? { db: Db; readDb: Db } : unknown);

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

/**
 * What no wait will fix: the database named in DATABASE_URL does not exist (3D000), or PostgreSQL refuses
 * the user or password (class 28). We do not create a missing database: a typo in the URL would then
 * quietly fill a second one.
 */
function unrecoverable(code: string | undefined, databaseUrl: string): string | null {
  const url = new URL(databaseUrl);
  if (code === '3D000') return `the database "${decodeURIComponent(url.pathname.slice(1))}" of DATABASE_URL does not exist on ${url.host}: create it (createdb) or fix DATABASE_URL`;
  if (code?.startsWith('28')) return `PostgreSQL at ${url.host} refused the user "${decodeURIComponent(url.username)}" of DATABASE_URL: check its user and password`;
  return null;
}

/** Runs migrations, waiting for PostgreSQL with backoff: a function cannot serve without its schema. */
async function migrateWhenReachable(db: Db, logger: Logger, databaseUrl: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      const applied = await migrateToLatest(db);
      if (applied.length > 0) logger.info({ migrations: applied }, 'Applied database migrations');
      return;
    } catch (error) {
      const cause = (error as Error).cause ?? error;
      const code = (cause as { code?: string }).code;
      if (code?.startsWith('42')) throw error; // a broken migration, not an outage
      const fatal = unrecoverable(code, databaseUrl);
      if (fatal !== null) {
        logger.fatal({ code }, fatal);
        process.exit(1);
      }
      logger.warn({ err: String(cause), attempt: attempt + 1 }, 'Waiting for PostgreSQL to migrate the schema');
      await sleep(backoffMs(attempt, 200, 5_000));
    }
  }
}

type Fetch = Running['fetch'];

// A 404 comes from an app's notFound handler, which has no logger: the one line for it is written here,
// at the edge of the process. (Every other refused request is logged by the app's error handler.)
const logNotFound = (fetch: Fetch, logger: Logger): Fetch => async (request) => {
  const response = await fetch(request);
  if (response.status === 404) logRefused(logger, { route: 'unmatched', status: 404, code: 'not_found' });
  return response;
};

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
  const config = loadConfigOrExit(process.env);
  const logger = createLogger(name, config.logLevel);
  const metrics = createMetrics(name);

  const redis = needs.redis ? createRedisClient(config, name) : undefined;
  if (redis) logRedisConnection(redis, logger);
  const db = needs.db ? createDb(config.databaseUrl, config.dbPoolSize, `aggregator-${name}`) : undefined;
  // Reads that may lag (GET /events) go to DATABASE_READ_URL when it names another server; never migrated.
  // Its pool connects at the first read only, so functions that never list events never reach it, and
  // readiness leaves it out: a replica down fails GET /events (503), not the function's other routes.
  const readDb = db && config.databaseReadUrl !== config.databaseUrl ? createDb(config.databaseReadUrl, config.dbPoolSize, `aggregator-${name}-reads`) : db;

  if (redis && !(await readyWithin(redis, 5_000))) logger.warn({ redis: redisTarget(config) }, 'Redis is not reachable yet; starting anyway');
  if (db) await migrateWhenReachable(db, logger, config.databaseUrl);

  const resources = {
    config, logger, metrics,
    readiness: readinessOf({ ...(redis ? { redis } : {}), ...(db ? { db } : {}) }),
    ...(redis ? { redis, queue: queueFromConfig(redis, config) } : {}),
    ...(db ? { db, readDb } : {}),
  } as unknown as Resources<Needs>;
  if ('queue' in resources) watchQueue(metrics, resources.queue as EventQueue);
  const running = await start(resources);

  const server = serve({ fetch: logNotFound(running.fetch, logger), hostname: config.host, port: config.port, serverOptions: {
    // Slow or stalled clients are cut off instead of holding a connection; Node only looks every 30 s unless told.
    requestTimeout: config.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, config.requestTimeoutMs / 4),
  } }, (info: AddressInfo) => logStart(logger, config, { port: info.port, redis: needs.redis, db: needs.db }));

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
    await settledWithin(Promise.allSettled([redis?.quit(), db?.destroy(), readDb !== db ? readDb?.destroy() : undefined]), Math.min(2_000, config.shutdownTimeoutMs / 4));
    await running.onClosed?.().catch((error: unknown) => logger.error({ err: error }, 'Closing failed'));
    logger.info('Stopped');
    process.exit(0);
  }
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
