import type { RedisClient } from '../queue/redis.ts';
import type { Logger } from '../log/logger.ts';

/**
 * Logs a lost Redis connection once and its return once, however many retries lie between:
 * the client reconnects by itself meanwhile. Without an `error` listener ioredis would print
 * every failed retry as an unhandled error.
 *
 * @example logRedisConnection(createRedisClient(config, 'process'), logger)
 */
export function logRedisConnection(redis: RedisClient, logger: Logger): void {
  let down = false;
  redis.on('error', (error) => {
    if (!down) logger.warn({ err: String(error) }, 'Redis connection lost; reconnecting');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('Redis connection is back');
    down = false;
  });
}
