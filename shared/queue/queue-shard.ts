import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Event } from '../event/event.schema.ts';
import { acceptedAtOf, batchesOf, checkMessageId, decodeMessage, encodeMessage, isBatchId, type QueueMessage } from './message.ts';
import { queueKeys, shardPrefix, type QueueKeys } from './queue-keys.ts';
import type { RedisClient } from './redis.ts';

const read = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
const PRELUDE = read('prelude');
const script = (name: string) => `${PRELUDE}\n${read(name)}`;

/**
 * Scripts whose calls QueueShard gathers itself (a turn's enqueues in one call): the Redis client
 * sends them at once rather than auto-pipelining them, which would hold each a second turn.
 */
export const GATHERED_SCRIPTS = ['aggEnqueue'];

// Each script: its Lua source and how many of its arguments are keys (see each file's header).
const SCRIPTS = {
  aggEnqueue: { lua: script('enqueue'), numberOfKeys: 2 },
  aggEnqueueClaimed: { lua: script('enqueue-claimed'), numberOfKeys: 3 },
  aggClaim: { lua: script('claim'), numberOfKeys: 4 },
  aggExtend: { lua: script('extend'), numberOfKeys: 1 },
  aggAck: { lua: script('ack'), numberOfKeys: 6 },
  aggReap: { lua: script('reap'), numberOfKeys: 4 },
  aggReplay: { lua: script('replay'), numberOfKeys: 4 },
  aggRelease: { lua: script('release'), numberOfKeys: 4 },
} as const;

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;
type Scripts = Record<keyof typeof SCRIPTS, ScriptCall>;

/**
 * Messages claimed by one worker under one lease: a claim. Its id names the lease
 * and the processing list (`claim_id` in logs); each message holds the events of one
 * or more requests, each request's id the `batch_id` ingest answered with.
 * `attempts[i]` is how many times `messages[i]` was claimed before without an
 * acknowledgement, read as it was claimed.
 */
export type Claim = { claimId: string; messages: string[]; attempts: number[] };

/**
 * A claim taken from the queue, and whether it took the queue's last message: then the claim
 * loops keep up with ingest, and the next claim can wait for more to gather (poller.ts).
 */
export type QueueClaim = Claim & { drained: boolean };

/** A message that cannot be processed, as it is parked in the dead-letter list. */
export type DeadLetter = { raw: string; reason: string; attempts: number; events: number };

/**
 * A dead letter as stored. `record` is its exact text; `id` is derived from it, so
 * it names the same letter however many letters arrive or leave meanwhile.
 */
export type ParkedLetter = DeadLetter & { id: string; claim_id: string; at: string; record: string; shard: number };

/** A request's enqueue waiting to be sent with the others of its turn of the event loop. */
type WaitingEnqueue = {
  id: string; at: number | undefined; json: string; bytes: number; events: number; maxPending: number;
  resolve: (pending: number) => void; reject: (error: unknown) => void;
};

// The requests of one turn become one queue message of at most QUEUE_MESSAGE_MAX_REQUESTS requests
// and this many events and bytes (one request may be larger: it goes alone). The bounds keep a message
// within what one request may be anyway, and a turn with many large requests from holding Redis in
// one long script.
const MESSAGE_EVENTS = 1_000;
const MESSAGE_BYTES = 1_048_576;

/** Whether a request may share its queue message: it has events, and an id a batch list can hold. */
const joinable = (w: WaitingEnqueue) => w.events > 0 && isBatchId(w.id);

// With QUEUE_MESSAGE_MAX_REQUESTS=1 each request is its own message, and a call carries at most this many.
const CALL_REQUESTS = 100;

/** How long a reaped claim is remembered for a late acknowledgement to take its attempt back. */
const REAPED_MEMORY_MS = 24 * 3_600_000;

export type QueueCounters = { received: number; pending: number; deadLettered: number };

/**
 * A request of a dead letter as a message of its own under a new id; its batch id kept, when
 * `listed` and a batch list can hold it, else the new id stands for it.
 */
function requeued(batch: { id: string; events: Event[] }, at: number | undefined, listed: boolean): QueueMessage {
  const message: QueueMessage = { id: randomUUID(), events: batch.events };
  if (at !== undefined) message.at = at;
  if (listed && batch.events.length > 0 && isBatchId(batch.id)) message.batches = [{ id: batch.id, events: batch.events.length }];
  return message;
}

/** The shard a claim id names: shard i > 0 starts its claim ids with `i.` (shard 0's are bare, as before shards). */
export const shardOfClaim = (claimId: string) => Number(/^(\d+)\./.exec(claimId)?.[1] ?? 0);

/**
 * One queue shard, the Redis side of the pipeline: a list of messages, batches
 * claimed under a lease into processing lists, acknowledgements, dead letters and
 * the counters that Redis keeps (received, pending, dead_lettered). Every change
 * to several keys is one Lua script on keys of one hash tag, so a crash never
 * leaves half of one and a cluster runs it on one master. Callers use the
 * EventQueue over all shards (queue.ts).
 *
 * @example
 *   const shard = new QueueShard(redis, 'agg', 2); // keys {agg:2}:...
 *   await shard.enqueue({ id: 'b1', events }, 1_000_000);
 */
export class QueueShard {
  readonly keys: QueueKeys;
  readonly #scripts: Scripts;
  readonly #claimTag: string;
  /** Enqueues waiting for the end of this turn of the event loop (see enqueue). */
  #turn: WaitingEnqueue[] = [];

  constructor(readonly redis: RedisClient, prefix: string, readonly index = 0, readonly messageMaxRequests = 100) {
    this.keys = queueKeys(shardPrefix(prefix, index));
    this.#claimTag = index === 0 ? '' : `${index}.`;
    for (const [name, definition] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, definition);
    }
    this.#scripts = redis as unknown as Scripts;
  }

  /**
   * Queues a request's events unless they would take the shard's pending events past
   * `maxPending`; the shard's pending events after them (the queue's view of the shards
   * keeps it), or 'full'.
   *
   * The requests of one turn of the event loop (concurrent requests) go to Redis as one
   * script call and into the queue as one message (lua/enqueue.lua), each request still
   * admitted on its own and in order, each keeping its id as its `batch_id`. Under
   * one-event requests, a message, a claim entry, a processed id and an acknowledgement
   * for each request were most of what storing them cost.
   */
  async enqueue(message: Omit<QueueMessage, 'batches'>, maxPending: number): Promise<{ pending: number } | 'full'> {
    checkMessageId(message.id);
    const json = JSON.stringify(message.events);
    const pending = await new Promise<number>((resolve, reject) => {
      const waiting = { id: message.id, at: message.at, json, bytes: Buffer.byteLength(json), events: message.events.length, maxPending, resolve, reject };
      if (this.#turn.push(waiting) === 1) setImmediate(() => void this.#sendTurn());
    });
    return pending === -1 ? 'full' : { pending };
  }

  /** Sends the turn's requests, in order, as messages within `messageMaxRequests`, MESSAGE_EVENTS and MESSAGE_BYTES. */
  async #sendTurn(): Promise<void> {
    const turn = this.#turn;
    this.#turn = [];
    const calls: Promise<void>[] = [];
    let call: WaitingEnqueue[] = [];
    let events = 0;
    let bytes = 0;
    for (const waiting of turn) {
      if (call.length > 0 && !this.#takes(call, { events, bytes }, waiting)) {
        calls.push(this.#sendCall(call));
        call = [];
        events = 0;
        bytes = 0;
      }
      call.push(waiting);
      events += waiting.events;
      bytes += waiting.bytes;
    }
    calls.push(this.#sendCall(call));
    await Promise.all(calls);
  }

  /** Whether a call (holding `sum`) takes one more request: joined into its message, or apart. */
  #takes(call: WaitingEnqueue[], sum: { events: number; bytes: number }, next: WaitingEnqueue): boolean {
    if (sum.bytes + next.bytes > MESSAGE_BYTES) return false;
    if (this.messageMaxRequests === 1) return call.length < CALL_REQUESTS;
    return call.length < this.messageMaxRequests && sum.events + next.events <= MESSAGE_EVENTS && joinable(next) && joinable(call[0]!);
  }

  async #sendCall(call: WaitingEnqueue[]): Promise<void> {
    try {
      const results = await this.#scripts.aggEnqueue(
        this.keys.queue, this.keys.counters, call[0]!.at ?? '', this.messageMaxRequests > 1 ? 'join' : 'apart', ...call.flatMap((w) => [w.id, w.events, w.maxPending, w.json]),
      );
      if (!Array.isArray(results) || results.length !== call.length || !results.every(Number.isInteger)) {
        throw new Error(`enqueue.lua answered ${JSON.stringify(results)} for ${call.length} requests`);
      }
      call.forEach((w, i) => w.resolve(results[i] as number));
    } catch (error) {
      for (const w of call) w.reject(error);
    }
  }

  /**
   * Counts a message in and leases it to the caller at once, for synchronous
   * processing; 'full' (nothing counted) when its events would take pending past `maxPending`.
   * As enqueue, it answers the shard's pending events after the push.
   */
  async enqueueClaimed(message: QueueMessage, leaseMs: number, maxPending: number): Promise<{ claim: Claim; pending: number } | 'full'> {
    const claimId = this.#claimTag + randomUUID();
    const raw = encodeMessage(message);
    const pending = (await this.#scripts.aggEnqueueClaimed(
      this.keys.processing(claimId), this.keys.leases, this.keys.counters, raw, message.events.length, leaseMs, claimId, maxPending,
    )) as number;
    return pending === -1 ? 'full' : { claim: { claimId, messages: [raw], attempts: [0] }, pending };
  }

  /**
   * Claims the oldest messages, up to either limit, under one lease; null when the
   * queue is empty. A message with attempts is claimed alone, so only a claim's first
   * message can have any: the script answers its count with the messages.
   */
  async claim(options: { maxMessages: number; maxEvents: number; leaseMs: number }): Promise<QueueClaim | null> {
    const claimId = this.#claimTag + randomUUID();
    const reply = (await this.#scripts.aggClaim(
      this.keys.queue, this.keys.processing(claimId), this.keys.leases, this.keys.attempts,
      options.maxMessages, options.maxEvents, options.leaseMs, claimId,
    )) as [] | [number, string[], number];
    if (reply.length === 0) return null;
    const [first, messages, left] = reply;
    return { claimId, messages, attempts: messages.map((_, i) => (i === 0 ? first : 0)), drained: left === 0 };
  }

  /** Renews a lease; false when the claim was already taken back. */
  async extend(claimId: string, leaseMs: number): Promise<boolean> {
    return (await this.#scripts.aggExtend(this.keys.leases, claimId, leaseMs)) === 1;
  }

  /**
   * Acknowledges a claim whose outcome is committed. `events` is how many events
   * leave `pending` (stored, dropped and dead-lettered alike); `messageIds` are
   * the ids whose attempt counts can be forgotten. False when the lease was lost;
   * the attempt a reaper counted for it is then taken back, since this worker lived.
   */
  async ack(claimId: string, outcome: { events: number; deadLetters: DeadLetter[]; messageIds: string[] }): Promise<boolean> {
    const dead = outcome.deadLetters.map((d) => JSON.stringify({ ...d, claim_id: claimId, at: new Date().toISOString() }));
    const deadEvents = outcome.deadLetters.reduce((sum, d) => sum + d.events, 0);
    const result = await this.#scripts.aggAck(
      this.keys.processing(claimId), this.keys.leases, this.keys.counters, this.keys.dead, this.keys.attempts, this.keys.reaped,
      claimId, outcome.events, deadEvents, dead.length, ...dead, ...outcome.messageIds,
    );
    return result === 1;
  }

  /**
   * Gives a claim back at once; the number of messages returned. A worker that is
   * stopping counts no attempt; one that gave up on the messages counts one.
   */
  async release(claimId: string, options: { countAttempt: boolean } = { countAttempt: false }): Promise<number> {
    return (await this.#scripts.aggRelease(
      this.keys.leases, this.keys.queue, this.keys.processing(claimId), this.keys.attempts, claimId, options.countAttempt ? 1 : 0,
    )) as number;
  }

  /** Returns the messages of expired leases to the queue; the number of messages returned. */
  async reapExpired(maxClaims = 100): Promise<number> {
    return (await this.#scripts.aggReap(
      this.keys.leases, this.keys.queue, this.keys.attempts, this.keys.reaped, this.keys.processingPrefix, maxClaims, REAPED_MEMORY_MS,
    )) as number;
  }

  /** How many times each message was claimed without being acknowledged. */
  async attempts(messageIds: string[]): Promise<number[]> {
    if (messageIds.length === 0) return [];
    const values = await this.redis.hmget(this.keys.attempts, ...messageIds);
    return values.map((value) => Number(value ?? 0));
  }

  /** The dead letters, newest first. */
  async deadLetters(limit?: number): Promise<ParkedLetter[]> {
    const records = await this.redis.lrange(this.keys.dead, 0, limit === undefined ? -1 : limit - 1);
    return records.map((record) => {
      const { batch_id: legacyClaimId, ...fields } = JSON.parse(record) as Omit<ParkedLetter, 'id' | 'record'> & { batch_id?: string };
      // Shard 0's ids are those of before shards; another shard's differ even for a letter of the same text.
      const id = createHash('sha256').update(this.#claimTag + record).digest('hex').slice(0, 12);
      // Letters parked before claims had their own word name the claim `batch_id`.
      return { ...fields, claim_id: fields.claim_id ?? legacyClaimId ?? '', id, record, shard: this.index };
    });
  }

  /**
   * Puts a dead letter back in the queue; false when it was no longer parked. Each request
   * the letter holds goes back as a message of its own, keeping its `batch_id` (in a batch
   * list, unless messages are written one a request, as older process functions read them):
   * when one of them is what the store refuses, it comes back parked alone and the others
   * are stored. Each goes under a new message id: the old one may be recorded in PostgreSQL
   * as parked, and under it the message would be taken for committed and skipped.
   */
  async replay(letter: ParkedLetter): Promise<boolean> {
    const decoded = decodeMessage(letter.raw);
    const listed = this.messageMaxRequests > 1;
    const raws = decoded.ok ? batchesOf(decoded.message).map((batch) => encodeMessage(requeued(batch, decoded.message.at, listed))) : [letter.raw];
    const result = await this.#scripts.aggReplay(
      this.keys.dead, this.keys.queue, this.keys.counters, this.keys.attempts, letter.record, letter.events, decoded.ok ? decoded.message.id : '', ...raws,
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
