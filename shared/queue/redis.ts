import { Redis } from 'ioredis';

/**
 * A Redis client that fails fast while Redis is down (no offline queue), so
 * ingest answers 503 at once instead of holding requests, and reconnects by itself.
 * A command whose connection drops before its reply is rejected, never sent
 * again: a queue script may already have run, and running it twice would
 * enqueue or claim twice. The callers' recovery (a 503, a lease that runs out)
 * copes with "maybe ran"; nothing copes with "ran twice".
 *
 * @example const redis = createRedis(config.redisUrl, 'ingest')
 */
export function createRedis(url: string, connectionName: string): Redis {
  return new Redis(url, {
    connectionName,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  });
}

/** Resolves once the client is ready, or after `ms` (the caller goes on either way; readiness tells). */
export function readyWithin(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), ms);
    const onReady = () => done(true);
    function done(ok: boolean) {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    }
    redis.once('ready', onReady);
  });
}
