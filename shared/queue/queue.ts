import { createHash } from 'node:crypto';
import type { Config } from '../config/config.ts';
import type { QueueMessage } from './message.ts';
import { PendingView } from './pending-view.ts';
import { QueueShard, shardOfClaim, type Claim, type QueueClaim, type DeadLetter, type ParkedLetter, type QueueCounters } from './queue-shard.ts';
import type { QueueKeys } from './queue-keys.ts';
import type { RedisClient } from './redis.ts';

export type { Claim, DeadLetter, ParkedLetter, QueueClaim, QueueCounters } from './queue-shard.ts';

/** How many shards are written, and how many read (more while shards of a higher count still hold data). */
export type ShardCounts = { shards: number; readShards?: number };

/** How the shards are laid out, and how many requests of a turn may share a queue message. */
export type QueueOptions = ShardCounts & { messageMaxRequests?: number };

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/**
 * How old the other shards' pending counts may be when an enqueue is checked against MAX_QUEUE_LENGTH:
 * their reads then cost N commands every 100 ms a process instead of N - 1 a request.
 */
const OTHERS_MAX_AGE_MS = 100;

/**
 * The queue as callers see it: QUEUE_SHARDS independent queue shards
 * (queue-shard.ts), each with its own hash tag, counters, leases and dead letters,
 * so a Redis Cluster spreads them over its masters. A message goes to the shard
 * its id hashes to; claims take turns over the shards; everything counted is
 * added up over them. A claim id names its shard, so a claim's lease, ack and
 * release go where it came from.
 *
 * Shards beyond `shards` up to `readShards` are claimed, reaped and counted but
 * not written: after QUEUE_SHARDS is lowered they drain, and their counters keep
 * their part of the totals.
 *
 * @example
 *   const queue = new EventQueue(redis, 'agg', { shards: 3 });
 *   await queue.enqueue({ id: 'b1', at: Date.now(), events }, 1_000_000);
 */
export class EventQueue {
  /** Every shard that is read; the first `written` are also written. */
  readonly shards: readonly QueueShard[];
  readonly #written: number;
  /** The other shards' pending counts for backpressure; none with a single shard, whose script checks everything. */
  readonly #pending: PendingView | null;
  /** The shard the next claim tries first, so that no shard starves behind a busy one. */
  #nextClaim = 0;

  constructor(readonly redis: RedisClient, readonly prefix: string, { shards = 1, readShards = shards, messageMaxRequests }: Partial<QueueOptions> = {}) {
    this.#written = shards;
    this.shards = Array.from({ length: Math.max(shards, readShards) }, (_, i) => new QueueShard(redis, prefix, i, messageMaxRequests));
    this.#pending = this.shards.length === 1 ? null : new PendingView(this.shards, OTHERS_MAX_AGE_MS);
  }

  /** Shard 0's keys: with one shard, every queue key there is. */
  get keys(): QueueKeys {
    return this.shards[0]!.keys;
  }

  /** The shard a message goes to: fixed by its id, so anyone can find it again. */
  shardFor(messageId: string): QueueShard {
    if (this.#written === 1) return this.shards[0]!;
    return this.shards[createHash('md5').update(messageId).digest().readUInt32BE(0) % this.#written]!;
  }

  /**
   * Queues a request's events, its id being its `batch_id`, unless the pending events of all shards
   * would pass `maxPending`: its own shard's exactly, the others' as this process saw them at most
   * OTHERS_MAX_AGE_MS ago. The requests of one turn that go to one shard share a queue message (QueueShard.enqueue).
   */
  async enqueue(message: Omit<QueueMessage, 'batches'>, maxPending: number): Promise<'queued' | 'full'> {
    const shard = this.shardFor(message.id);
    const result = await shard.enqueue(message, await this.#allowance(shard, maxPending));
    if (result === 'full') return 'full';
    this.#pending?.saw(shard.index, result.pending);
    return 'queued';
  }

  /** As EventQueue.enqueue, leasing the message to the caller at once (synchronous processing). */
  async enqueueClaimed(message: QueueMessage, leaseMs: number, maxPending: number): Promise<Claim | 'full'> {
    const shard = this.shardFor(message.id);
    const result = await shard.enqueueClaimed(message, leaseMs, await this.#allowance(shard, maxPending));
    if (result === 'full') return 'full';
    this.#pending?.saw(shard.index, result.pending);
    return result.claim;
  }

  /**
   * Claims from the shards in turn, each claim starting one shard further than the last,
   * so a busy shard cannot starve the others; null when every shard is empty. `drained`
   * says the claim left every shard's queue empty.
   */
  async claim(options: { maxMessages: number; maxEvents: number; leaseMs: number }): Promise<QueueClaim | null> {
    const start = this.#nextClaim;
    this.#nextClaim = (start + 1) % this.shards.length;
    for (let i = 0; i < this.shards.length; i++) {
      const shard = this.shards[(start + i) % this.shards.length]!;
      const claim = await shard.claim(options);
      if (claim) return claim.drained && this.shards.length > 1 ? { ...claim, drained: await this.#emptyBut(shard) } : claim;
    }
    return null;
  }

  /**
   * Whether every shard's queue but `claimed`'s (which its claim has just emptied) is empty; false
   * when Redis cannot say, as the claim is taken already and must reach its caller all the same.
   */
  async #emptyBut(claimed: QueueShard): Promise<boolean> {
    try {
      const lengths = await Promise.all(this.shards.filter((s) => s !== claimed).map((s) => this.redis.llen(s.keys.queue)));
      return lengths.every((length) => length === 0);
    } catch {
      return false;
    }
  }

  async extend(claimId: string, leaseMs: number): Promise<boolean> {
    return this.#shardOfClaim(claimId).extend(claimId, leaseMs);
  }

  async ack(claimId: string, outcome: { events: number; deadLetters: DeadLetter[]; messageIds: string[] }): Promise<boolean> {
    return this.#shardOfClaim(claimId).ack(claimId, outcome);
  }

  async release(claimId: string, options?: { countAttempt: boolean }): Promise<number> {
    return this.#shardOfClaim(claimId).release(claimId, options);
  }

  /** Returns the messages of expired leases of every shard to their queues; how many. */
  async reapExpired(maxClaims = 100): Promise<number> {
    return sum(await Promise.all(this.shards.map((s) => s.reapExpired(maxClaims))));
  }

  /** How many times each message was claimed without being acknowledged (a message counts in its own shard only). */
  async attempts(messageIds: string[]): Promise<number[]> {
    if (messageIds.length === 0) return [];
    const perShard = await Promise.all(this.shards.map((s) => s.attempts(messageIds)));
    return messageIds.map((_, i) => sum(perShard.map((counts) => counts[i]!)));
  }

  /** The dead letters of every shard, newest first: all of them, or the newest `limit`; each knows its shard. */
  async deadLetters(limit?: number): Promise<ParkedLetter[]> {
    const letters = (await Promise.all(this.shards.map((s) => s.deadLetters(limit)))).flat();
    // Stable: letters of one shard keep their order (the list's), even within one millisecond.
    // A letter parked by an old version may have no `at`: it sorts last.
    const newestFirst = this.shards.length === 1 ? letters : letters.sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));
    return limit === undefined ? newestFirst : newestFirst.slice(0, limit);
  }

  async replay(letter: ParkedLetter): Promise<boolean> {
    return this.#shardOf(letter.shard).replay(letter);
  }

  async drop(letter: ParkedLetter): Promise<boolean> {
    return this.#shardOf(letter.shard).drop(letter);
  }

  async counters(): Promise<QueueCounters> {
    const all = await Promise.all(this.shards.map((s) => s.counters()));
    return { received: sum(all.map((c) => c.received)), pending: sum(all.map((c) => c.pending)), deadLettered: sum(all.map((c) => c.deadLettered)) };
  }

  /** When the oldest message pending in any shard was accepted; null when nothing is pending. */
  async oldestPendingAt(): Promise<number | null> {
    const times = (await Promise.all(this.shards.map((s) => s.oldestPendingAt()))).filter((t): t is number => t !== null);
    return times.length === 0 ? null : Math.min(...times);
  }

  /** Messages waiting and batches in flight, over all shards. */
  async depth(): Promise<{ queuedMessages: number; batchesInFlight: number }> {
    const all = await Promise.all(this.shards.map((s) => s.depth()));
    return { queuedMessages: sum(all.map((d) => d.queuedMessages)), batchesInFlight: sum(all.map((d) => d.batchesInFlight)) };
  }

  /**
   * What `shard` may hold for the total to stay within `maxPending`. The other shards' counts come
   * from the view, up to OTHERS_MAX_AGE_MS old: what other processes queued on them meanwhile can
   * pass the limit by that much, no more (and what pollers took off them meanwhile refuses early).
   */
  async #allowance(shard: QueueShard, maxPending: number): Promise<number> {
    if (!this.#pending) return maxPending;
    return Math.max(0, maxPending - (await this.#pending.othersThan(shard.index)));
  }

  #shardOfClaim(claimId: string): QueueShard {
    return this.#shardOf(shardOfClaim(claimId));
  }

  #shardOf(index: number): QueueShard {
    const shard = this.shards[index];
    if (!shard) throw new Error(`queue shard ${index} is not read here: QUEUE_SHARDS_DRAIN must cover every shard that holds data`);
    return shard;
  }
}

/** The queue as the config describes it (QUEUE_PREFIX, QUEUE_SHARDS, QUEUE_SHARDS_DRAIN, QUEUE_MESSAGE_MAX_REQUESTS). */
export function queueFromConfig(redis: RedisClient, config: Pick<Config, 'queuePrefix' | 'queueShards' | 'queueShardsRead' | 'queueMessageMaxRequests'>): EventQueue {
  return new EventQueue(redis, config.queuePrefix, {
    shards: config.queueShards, readShards: config.queueShardsRead, messageMaxRequests: config.queueMessageMaxRequests,
  });
}
