import { Cluster, Command, type Redis } from 'ioredis';
import { AppError } from '../../shared/http/errors.ts';
import type { RedisClient } from '../../shared/queue/redis.ts';

// REDIS_MIN_REPLICAS_ACK: ingest answers 202 only once that many replicas have the message.
// Redis replicates asynchronously: without this, a master that crashes after its reply and before its
// replicas copied the write takes the message with it, and the replica promoted in its place never had it.

/**
 * The connection `key`'s writes went through: the client itself, or on a cluster
 * the connection to the master of the key's slot. WAIT counts the writes of the
 * connection it is sent on, and ioredis sends a keyless command to any node.
 */
function connectionOf(redis: RedisClient, key: string): Redis | null {
  if (!(redis instanceof Cluster)) return redis;
  const [master] = redis.slots[new Command('exists', [key]).getSlot()] ?? [];
  return redis.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === master) ?? null;
}

/** Fewer replicas than asked confirmed in time: the message may be kept or lost, so the publisher retries. */
export const notReplicated = (acknowledged: number, wanted: number, cause?: unknown) =>
  new AppError(503, 'unavailable', `redis replicas confirmed ${acknowledged} of ${wanted} in time; retry (the retry is deduplicated by key)`,
    { dependency: 'redis' }, { 'Retry-After': '1' }, { cause });

/**
 * Waits (Redis WAIT, at most `timeoutMs`) until `replicas` replicas have every
 * write made so far on the connection that wrote `key`; throws `notReplicated`
 * when fewer confirm, or when the master cannot be asked.
 *
 * @example await confirmReplicated(queue.redis, queue.keys.queue, 1, 1_000) // after the enqueue
 */
export async function confirmReplicated(redis: RedisClient, key: string, replicas: number, timeoutMs: number): Promise<void> {
  const connection = connectionOf(redis, key);
  let acknowledged = 0;
  try {
    if (connection) acknowledged = await connection.wait(replicas, timeoutMs);
  } catch (error) {
    throw notReplicated(0, replicas, error);
  }
  if (acknowledged < replicas) throw notReplicated(acknowledged, replicas);
}
