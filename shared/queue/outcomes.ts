import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '../log/logger.ts';
import { settledWithin } from '../runtime/backoff.ts';
import { queueKeys, type QueueKeys } from './queue-keys.ts';
import { duplicateClient, readyWithin, type RedisClient } from './redis.ts';

// How a publisher that asked to wait (`POST /publish?wait=true`) learns what became of its events,
// through Redis only: ingest has no PostgreSQL connection.
//
// 1. Ingest writes a waiter key for the message, holding the pub/sub channel of its own process, and
//    extends the `waiting` flag, before it enqueues the message: the outcome cannot come unheard.
// 2. After the commit, process runs one script for the whole batch: a message with a waiter key
//    gets its outcome written to an outcome key and its id published on that channel; a message
//    without one costs a GET. While nobody has waited lately (no `waiting` flag) the batch costs
//    one EXISTS instead: the script's arguments, a key and an outcome a message, are not even sent.
// 3. Ingest wakes on the id (or at its deadline), then takes the outcome key and deletes both keys in
//    one step. A notification lost to a reconnect is made up for by that last read; keys whose waiter
//    went away expire.

export type EventStatus = 'stored' | 'duplicate';

/** What became of each event of one committed request (a batch of a queue message), in the request's order. */
export type MessageOutcome = { batchId: string; results: EventStatus[] };

/** The batch processor's `onCommitted` hook. */
export type OnCommitted = (outcomes: MessageOutcome[]) => Promise<void> | void;

// One letter an event on the wire: the outcome of a 1,000-event request is 1 KB.
const encodeResults = (results: EventStatus[]) => results.map((r) => (r === 'stored' ? 's' : 'd')).join('');
const decodeResults = (text: string): EventStatus[] => [...text].map((c) => (c === 's' ? 'stored' : 'duplicate'));

const script = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');

// The waiter key outlives the wait by this much: it must still be there when the outcome is published
// late in the wait, and the enqueue before the wait takes a moment too.
const WAITER_KEY_MARGIN_MS = 5_000;

/**
 * The process side: an `onCommitted` hook that tells waiting publishers what
 * became of their messages. It never rejects: a publisher that hears nothing
 * gets the usual 202 once its wait runs out.
 *
 * @example createBatchProcessor({ ...deps, onCommitted: outcomePublisher(redis, 'agg', logger) })
 */
export function outcomePublisher(redis: RedisClient, prefix: string, logger: Logger): OnCommitted {
  if (!('aggTellWaiters' in redis)) redis.defineCommand('aggTellWaiters', { lua: script('tell-waiters') });
  const client = redis as unknown as { aggTellWaiters: (numberOfKeys: number, ...args: string[]) => Promise<number> };
  const keys = queueKeys(prefix);
  return async function publishOutcomes(outcomes) {
    if (outcomes.length === 0) return;
    try {
      if ((await redis.exists(keys.waiting)) === 0) return;
      const scriptKeys = outcomes.flatMap((o) => [keys.waiter(o.batchId), keys.outcome(o.batchId)]);
      const args = outcomes.flatMap((o) => [o.batchId, encodeResults(o.results)]);
      await client.aggTellWaiters(scriptKeys.length, ...scriptKeys, ...args);
    } catch (error) {
      logger.warn({ err: String(error), messages: outcomes.length }, 'Could not tell waiting publishers; they get 202 when their wait runs out');
    }
  };
}

/** A message someone waits on, between its waiter key and its answer. */
export type PendingOutcome = {
  /** Waits at most `ms` to be told, then takes the outcome (null when there is none yet) and removes both keys. */
  settle: (ms: number) => Promise<EventStatus[] | null>;
  /** The message was not queued after all: removes its waiter key. */
  cancel: () => Promise<void>;
};

/**
 * The ingest side: one pub/sub connection per process (a duplicate of `redis`,
 * opened at the first wait), on which this process is told the ids of
 * the messages whose outcome is ready.
 *
 * @example
 *   const pending = await waiter.expect(batchId, 10_000); // before enqueueing
 *   await queue.enqueue(message, max);
 *   const results = await pending?.settle(10_000); // null: not stored in time
 */
export class OutcomeWaiter {
  readonly #keys: QueueKeys;
  readonly #channel: string;
  readonly #wakers = new Map<string, () => void>();
  #subscriber: RedisClient | null = null;
  #subscribed = false;
  #closed = false;

  constructor(readonly redis: RedisClient, prefix: string) {
    if (!('aggExpectOutcome' in redis)) redis.defineCommand('aggExpectOutcome', { lua: script('expect-outcome'), numberOfKeys: 2 });
    this.#keys = queueKeys(prefix);
    this.#channel = this.#keys.outcomeChannel(randomUUID());
    // A waiter made by the app itself has no owner to close it: it goes with its client.
    redis.once('end', () => void this.close());
  }

  /**
   * Marks a message as waited on for `waitMs`; call it before the message is
   * enqueued. Null when this process cannot listen now (the caller answers
   * without waiting). Rejects when Redis does not take the mark.
   */
  async expect(messageId: string, waitMs: number): Promise<PendingOutcome | null> {
    if (!(await this.#listen())) return null;
    let wake = () => {};
    const told = new Promise<void>((resolve) => (wake = resolve));
    this.#wakers.set(messageId, wake);
    try {
      const client = this.redis as unknown as { aggExpectOutcome: (...args: (string | number)[]) => Promise<number> };
      await client.aggExpectOutcome(this.#keys.waiter(messageId), this.#keys.waiting, this.#channel, waitMs + WAITER_KEY_MARGIN_MS);
    } catch (error) {
      this.#wakers.delete(messageId);
      throw error;
    }
    return {
      settle: async (ms) => {
        await settledWithin(told, ms);
        this.#wakers.delete(messageId);
        return this.#take(messageId);
      },
      cancel: async () => {
        this.#wakers.delete(messageId);
        await this.redis.del(this.#keys.waiter(messageId)).catch(() => undefined); // else it expires
      },
    };
  }

  /** Ends every wait at once (each takes what is there) and closes the connection; safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const wake of this.#wakers.values()) wake();
    const subscriber = this.#subscriber;
    this.#subscriber = null;
    if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
  }

  async #listen(): Promise<boolean> {
    // While Redis is away the publish fails at once with 503: no point holding it up to connect.
    if (this.#closed || !['ready', 'connect', 'connecting'].includes(this.redis.status)) return false;
    if (this.#subscribed) return true; // ioredis subscribes again by itself after a reconnect
    this.#subscriber ??= this.#connect();
    if (!(await readyWithin(this.#subscriber, 2_000))) return false;
    try {
      await this.#subscriber.subscribe(this.#channel);
    } catch {
      return false;
    }
    this.#subscribed = true;
    return true;
  }

  #connect(): RedisClient {
    // A duplicate keeps the client's settings: no offline queue, no resend of unanswered commands.
    const subscriber = duplicateClient(this.redis, 'outcomes');
    subscriber.on('error', () => undefined); // the main client already reports an outage
    subscriber.on('message', (_channel: string, messageId: string) => this.#wakers.get(messageId)?.());
    return subscriber;
  }

  /** The outcome if it is there, and no key left behind either way. */
  async #take(messageId: string): Promise<EventStatus[] | null> {
    const outcomeKey = this.#keys.outcome(messageId);
    try {
      const replies = await this.redis.multi().get(outcomeKey).del(outcomeKey, this.#keys.waiter(messageId)).exec();
      const text = replies?.[0]?.[1];
      return typeof text === 'string' ? decodeResults(text) : null;
    } catch {
      return null; // the events are queued all the same; the keys expire
    }
  }
}
