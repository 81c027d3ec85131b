import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { acceptedAtOf, decodeMessage, encodeMessage, type QueueMessage } from './message.ts';
import { queueKeys, type QueueKeys } from './queue-keys.ts';
import type { RedisClient } from './redis.ts';

const script = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');

// Each script: its Lua source and how many of its arguments are keys (see each file's header).
const SCRIPTS = {
  aggEnqueue: { lua: script('enqueue'), numberOfKeys: 2 },
  aggEnqueueClaimed: { lua: script('enqueue-claimed'), numberOfKeys: 3 },
  aggClaim: { lua: script('claim'), numberOfKeys: 3 },
  aggExtend: { lua: script('extend'), numberOfKeys: 1 },
  aggAck: { lua: script('ack'), numberOfKeys: 5 },
  aggReap: { lua: script('reap'), numberOfKeys: 3 },
  aggReplay: { lua: script('replay'), numberOfKeys: 4 },
  aggRelease: { lua: script('release'), numberOfKeys: 3 },
} as const;

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;
type Scripts = Record<keyof typeof SCRIPTS, ScriptCall>;

/** A batch of messages claimed by one worker under one lease. */
export type ClaimedBatch = { batchId: string; messages: string[] };

/** A message that cannot be processed, as it is parked in the dead-letter list. */
export type DeadLetter = { raw: string; reason: string; attempts: number; events: number };

/** A dead letter as stored: `record` is its exact text, which identifies it for replay and drop. */
export type ParkedLetter = DeadLetter & { batch_id: string; at: string; record: string };

export type QueueCounters = { received: number; pending: number; deadLettered: number };

/**
 * The Redis side of the pipeline: a list of messages, batches claimed under a
 * lease into processing lists, acknowledgements, dead letters and the counters
 * that Redis keeps (received, pending, dead_lettered). Every change to several
 * keys is one Lua script, so a crash never leaves half of one.
 *
 * @example
 *   const queue = new EventQueue(redis, 'agg');
 *   await queue.enqueue({ id: 'b1', events }, 1_000_000);
 */
export class EventQueue {
  readonly keys: QueueKeys;
  readonly #scripts: Scripts;

  constructor(readonly redis: RedisClient, readonly prefix: string) {
    this.keys = queueKeys(prefix);
    for (const [name, definition] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, definition);
    }
    this.#scripts = redis as unknown as Scripts;
  }

  /** Pushes a message unless the pending events would pass `maxPending`. */
  async enqueue(message: QueueMessage, maxPending: number): Promise<'queued' | 'full'> {
    const result = await this.#scripts.aggEnqueue(
      this.keys.queue, this.keys.counters, encodeMessage(message), message.events.length, maxPending,
    );
    return result === -1 ? 'full' : 'queued';
  }

  /** Counts a message in and leases it to the caller at once, for synchronous processing. */
  async enqueueClaimed(message: QueueMessage, leaseMs: number): Promise<ClaimedBatch> {
    const batchId = randomUUID();
    const raw = encodeMessage(message);
    await this.#scripts.aggEnqueueClaimed(
      this.keys.processing(batchId), this.keys.leases, this.keys.counters, raw, message.events.length, leaseMs, batchId,
    );
    return { batchId, messages: [raw] };
  }

  /** Claims the oldest messages, up to either limit, as one leased batch; null when the queue is empty. */
  async claim(options: { maxMessages: number; maxEvents: number; leaseMs: number }): Promise<ClaimedBatch | null> {
    const batchId = randomUUID();
    const messages = (await this.#scripts.aggClaim(
      this.keys.queue, this.keys.processing(batchId), this.keys.leases,
      options.maxMessages, options.maxEvents, options.leaseMs, batchId,
    )) as string[];
    return messages.length === 0 ? null : { batchId, messages };
  }

  /** Renews a lease; false when the batch was already taken back. */
  async extend(batchId: string, leaseMs: number): Promise<boolean> {
    return (await this.#scripts.aggExtend(this.keys.leases, batchId, leaseMs)) === 1;
  }

  /**
   * Acknowledges a batch whose outcome is committed. `events` is how many events
   * leave `pending` (stored, dropped and dead-lettered alike); `messageIds` are
   * the ids whose attempt counts can be forgotten.
   */
  async ack(batchId: string, outcome: { events: number; deadLetters: DeadLetter[]; messageIds: string[] }): Promise<boolean> {
    const dead = outcome.deadLetters.map((d) => JSON.stringify({ ...d, batch_id: batchId, at: new Date().toISOString() }));
    const deadEvents = outcome.deadLetters.reduce((sum, d) => sum + d.events, 0);
    const result = await this.#scripts.aggAck(
      this.keys.processing(batchId), this.keys.leases, this.keys.counters, this.keys.dead, this.keys.attempts,
      batchId, outcome.events, deadEvents, dead.length, ...dead, ...outcome.messageIds,
    );
    return result === 1;
  }

  /** Gives a batch back at once, for a worker that stops before finishing it; no attempt is counted. */
  async release(batchId: string): Promise<number> {
    return (await this.#scripts.aggRelease(this.keys.leases, this.keys.queue, this.keys.processing(batchId), batchId)) as number;
  }

  /** Returns the messages of expired leases to the queue; the number of messages returned. */
  async reapExpired(maxBatches = 100): Promise<number> {
    return (await this.#scripts.aggReap(this.keys.leases, this.keys.queue, this.keys.attempts, this.keys.processingPrefix, maxBatches)) as number;
  }

  /** How many times each message was claimed without being acknowledged. */
  async attempts(messageIds: string[]): Promise<number[]> {
    if (messageIds.length === 0) return [];
    const values = await this.redis.hmget(this.keys.attempts, ...messageIds);
    return values.map((value) => Number(value ?? 0));
  }

  /** The dead letters, newest first. */
  async deadLetters(): Promise<ParkedLetter[]> {
    const records = await this.redis.lrange(this.keys.dead, 0, -1);
    return records.map((record) => ({ ...(JSON.parse(record) as Omit<ParkedLetter, 'record'>), record }));
  }

  /**
   * Puts a dead letter back in the queue; false when it was no longer parked.
   * It goes back under a new id: its old id may be recorded in PostgreSQL as
   * parked, and under that id it would be taken for committed and skipped.
   */
  async replay(letter: ParkedLetter): Promise<boolean> {
    const decoded = decodeMessage(letter.raw);
    const raw = decoded.ok ? encodeMessage({ ...decoded.message, id: randomUUID() }) : letter.raw;
    const oldId = decoded.ok ? decoded.message.id : '';
    const result = await this.#scripts.aggReplay(
      this.keys.dead, this.keys.queue, this.keys.counters, this.keys.attempts, letter.record, raw, letter.events, oldId,
    );
    return result === 1;
  }

  /** Deletes a dead letter for good; its events stay counted in `dead_lettered`. */
  async drop(letter: ParkedLetter): Promise<boolean> {
    return (await this.redis.lrem(this.keys.dead, 1, letter.record)) === 1;
  }

  async counters(): Promise<QueueCounters> {
    const [received, pending, dead] = await this.redis.hmget(this.keys.counters, 'received', 'pending', 'dead_lettered');
    return { received: Number(received ?? 0), pending: Number(pending ?? 0), deadLettered: Number(dead ?? 0) };
  }

  /**
   * When the oldest pending message was accepted: the queue's oldest message, or
   * the first message of the batch whose lease ends first, whichever is older;
   * null when nothing is pending.
   */
  async oldestPendingAt(): Promise<number | null> {
    const [waiting, [soonestLease]] = await Promise.all([this.redis.lindex(this.keys.queue, -1), this.redis.zrange(this.keys.leases, '0', '0')]);
    const inFlight = soonestLease === undefined ? null : await this.redis.lindex(this.keys.processing(soonestLease), 0);
    const times = [acceptedAtOf(waiting), acceptedAtOf(inFlight)].filter((t): t is number => t !== null);
    return times.length === 0 ? null : Math.min(...times);
  }

  /** Messages waiting in the queue and batches in flight. */
  async depth(): Promise<{ queuedMessages: number; batchesInFlight: number }> {
    const [queued, leased] = await Promise.all([this.redis.llen(this.keys.queue), this.redis.zcard(this.keys.leases)]);
    return { queuedMessages: queued, batchesInFlight: leased };
  }
}
