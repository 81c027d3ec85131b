import type { Redis } from 'ioredis';
import { queueKeys } from '../../shared/queue/queue-keys.ts';

/**
 * What a refused request must leave untouched: the queue list and the
 * `received` counter under a prefix.
 *
 * @example expect(await queueProbe(redis, prefix)()).toEqual({ queued: 0, received: 0 })
 */
export function queueProbe(redis: Redis, prefix: string) {
  const keys = queueKeys(prefix);
  return async () => {
    const [queued, received] = await Promise.all([redis.llen(keys.queue), redis.hget(keys.counters, 'received')]);
    return { queued, received: Number(received ?? 0) };
  };
}
