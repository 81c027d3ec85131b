import { join, resolve } from 'node:path';
import type { Logger } from '../shared/log/logger.ts';
import { startLocalPostgres } from './local-postgres.ts';
import { localServersFile, publishLocalServers } from './local-servers.ts';
import { findRedisServer, startLocalRedis, type StartedService } from './local-redis.ts';
import { answers } from './tcp-probe.ts';
import { ZeroSetupError } from './zero-setup-error.ts';

export { ZeroSetupError } from './zero-setup-error.ts';

/** The variables zero-setup reads: the two URLs (set means "use it"), where data goes, and where to look for local servers. */
export type ZeroSetupEnv = {
  DATABASE_URL?: string | undefined;
  REDIS_URL?: string | undefined;
  /** A Redis Cluster given instead of REDIS_URL: nothing to start. */
  REDIS_CLUSTER_NODES?: string | undefined;
  /** Where started servers keep their data; default `.data` in the working directory. */
  DATA_DIR?: string | undefined;
  /** Where a local PostgreSQL would answer, default 127.0.0.1:5432 (the default DATABASE_URL's). */
  ZERO_SETUP_PROBE_PG?: string | undefined;
  /** Where a local Redis would answer, default 127.0.0.1:6379 (the default REDIS_URL's). */
  ZERO_SETUP_PROBE_REDIS?: string | undefined;
  PATH?: string | undefined;
};

export type ZeroSetup = {
  /** The URLs of the servers started, to put in the environment before the config is read. */
  env: { DATABASE_URL?: string; REDIS_URL?: string };
  /** Stops what was started (Redis last: the runner's final acknowledgements go there). */
  stop: () => Promise<void>;
};

// Empty counts as unset, as in shared/config.
const given = (value: string | undefined) => value !== undefined && value !== '';

/**
 * Makes `npm start` work on a bare machine: without DATABASE_URL and with no
 * PostgreSQL at the default address, starts an embedded one; without REDIS_URL
 * and no Redis at the default address, starts `redis-server` when it is
 * installed, and otherwise throws a ZeroSetupError saying how to get one.
 * With the URLs given it starts nothing.
 *
 * @example const setup = await zeroSetup(process.env, logger); Object.assign(process.env, setup.env)
 */
export async function zeroSetup(env: ZeroSetupEnv, logger: Logger): Promise<ZeroSetup> {
  const redisAt = env.ZERO_SETUP_PROBE_REDIS || '127.0.0.1:6379';
  const [needPostgres, needRedis] = await Promise.all([
    given(env.DATABASE_URL) ? false : answers(env.ZERO_SETUP_PROBE_PG || '127.0.0.1:5432').then((up) => !up),
    given(env.REDIS_URL) || given(env.REDIS_CLUSTER_NODES) ? false : answers(redisAt).then((up) => !up),
  ]);
  // Decided before anything starts, so a missing Redis leaves nothing behind.
  const redisServer = needRedis ? await findRedisServer(env.PATH) : null;
  if (needRedis && !redisServer) {
    throw new ZeroSetupError(
      `No Redis at ${redisAt} and REDIS_URL is not set: install one (apt-get install redis-server) or run one (docker run -d -p 127.0.0.1:6379:6379 redis:7.4-alpine), or set REDIS_URL.`,
    );
  }
  const dataDir = resolve(env.DATA_DIR || '.data');
  const started: StartedService[] = [];
  const setup: ZeroSetup = {
    env: {},
    stop: async () => {
      for (const service of started.splice(0).reverse()) await service.stop().catch((error) => logger.warn({ err: String(error) }, 'Stopping a local server failed'));
    },
  };
  try {
    if (redisServer) {
      const redis = await startLocalRedis(redisServer, join(dataDir, 'redis'), logger);
      started.push(redis);
      setup.env.REDIS_URL = redis.url;
    }
    if (needPostgres) {
      const postgres = await startLocalPostgres(dataDir, logger);
      started.push(postgres);
      setup.env.DATABASE_URL = postgres.url;
    }
    if (started.length > 0) {
      const forget = await publishLocalServers(env, setup.env);
      started.push({ url: '', stop: forget }); // removed first when stopping: no tool then finds a server going away
      logger.info({ file: localServersFile(env) }, 'The URLs of the servers started are in the file (for npm run dlq, npm run chaos, psql)');
    }
  } catch (error) {
    await setup.stop();
    throw error;
  }
  return setup;
}
