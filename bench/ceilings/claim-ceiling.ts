import type { Redis } from 'ioredis';
import type { Config } from '../../shared/config/config.ts';
import { EventQueue } from '../../shared/queue/queue.ts';

export type ClaimRun = { script: string; messages: number; events: number; seconds: number; eventsPerSecond: number; slowestMs: number };

type Claim = (queue: EventQueue) => Promise<string[]>;

/**
 * Claims a queue of `messages` dry, batch after batch, with the product's
 * claim script (under a scratch prefix, deleted afterwards). Shows what a deep
 * queue of large messages costs the claim: the poller's side of Redis. (The
 * windowed script now in the product was first measured here as a prototype.)
 */
export async function measureClaims(redis: Redis, prefix: string, messages: readonly string[], config: Config): Promise<ClaimRun[]> {
  const limits = { maxMessages: config.batchMaxMessages, maxEvents: config.batchMaxEvents, leaseMs: config.leaseMs };
  const claims: Array<[string, Claim]> = [
    ['claim.lua (product)', async (queue) => (await queue.claim(limits))?.messages ?? []],
  ];
  const runs: ClaimRun[] = [];
  for (const [script, claim] of claims) {
    const queue = new EventQueue(redis, `${prefix}-claim`);
    for (let i = 0; i < messages.length; i += 100) await redis.lpush(queue.keys.queue, ...messages.slice(i, i + 100));
    let events = 0;
    let slowestMs = 0;
    const started = performance.now();
    for (;;) {
      const before = performance.now();
      const batch = await claim(queue);
      slowestMs = Math.max(slowestMs, performance.now() - before);
      if (batch.length === 0) break;
      for (const raw of batch) events += Number(raw.slice(0, raw.indexOf('|')));
    }
    const seconds = (performance.now() - started) / 1000;
    runs.push({ script, messages: messages.length, events, seconds, eventsPerSecond: events / seconds, slowestMs });
    const processing = await redis.zrange(queue.keys.leases, '0', '-1');
    await redis.del(queue.keys.queue, queue.keys.leases, ...processing.map((id) => queue.keys.processing(id)));
  }
  return runs;
}
