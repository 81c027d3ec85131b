import type { Redis } from 'ioredis';
import type { Config } from '../../shared/config/config.ts';
import { EventQueue } from '../../shared/queue/queue.ts';

export type ClaimRun = { messages: number; events: number; seconds: number; eventsPerSecond: number; slowestMs: number };

/**
 * Claims a queue of `messages` dry, batch after batch, with the product's
 * claim script (under a scratch prefix, deleted afterwards). Shows what a deep
 * queue of large messages costs the claim: the poller's side of Redis.
 */
export async function measureClaims(redis: Redis, prefix: string, messages: readonly string[], config: Config): Promise<ClaimRun> {
  const limits = { maxMessages: config.batchMaxMessages, maxEvents: config.batchMaxEvents, leaseMs: config.leaseMs };
  const queue = new EventQueue(redis, `${prefix}-claim`);
  for (let i = 0; i < messages.length; i += 100) await redis.lpush(queue.keys.queue, ...messages.slice(i, i + 100));
  let events = 0;
  let slowestMs = 0;
  const started = performance.now();
  for (;;) {
    const before = performance.now();
    const batch = (await queue.claim(limits))?.messages ?? [];
    slowestMs = Math.max(slowestMs, performance.now() - before);
    if (batch.length === 0) break;
    for (const raw of batch) events += Number(raw.slice(0, raw.indexOf('|')));
  }
  const seconds = (performance.now() - started) / 1000;
  const processing = await redis.zrange(queue.keys.leases, '0', '-1');
  await redis.del(queue.keys.queue, queue.keys.leases, ...processing.map((id) => queue.keys.processing(id)));
  return { messages: messages.length, events, seconds, eventsPerSecond: events / seconds, slowestMs };
}
