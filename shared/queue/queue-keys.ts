/**
 * Every Redis key the system uses, in one place. The `{prefix}` hash tag keeps
 * them in one cluster slot, as the Lua scripts that touch several need.
 *
 * @example queueKeys('agg').queue // '{agg}:queue'
 */
export function queueKeys(prefix: string) {
  const base = `{${prefix}}`;
  return Object.freeze({
    /** Messages waiting: LPUSH at the head, claimed from the tail (oldest first). */
    queue: `${base}:queue`,
    /** claim id → lease expiry (ms since epoch, Redis clock). */
    leases: `${base}:leases`,
    /** Hash of the counters kept in Redis: received, pending, dead_lettered. */
    counters: `${base}:counters`,
    /** Dead letters: JSON records with the message, its reason and attempts. */
    dead: `${base}:dead`,
    /** message id → how many claims of it ended without an acknowledgement. */
    attempts: `${base}:attempts`,
    /** claim id → when its lease was reaped: a late acknowledgement takes back the attempt counted then. */
    reaped: `${base}:reaped`,
    /** The prefix of the per-claim processing lists, for scripts that find them from the leases. */
    processingPrefix: `${base}:processing:`,
    /** The messages of one claim. */
    processing: (claimId: string) => `${base}:processing:${claimId}`,
    /** Present while any publisher may be waiting for an outcome: without it, process tells nobody. */
    waiting: `${base}:waiting`,
    /** Someone waits for this message's outcome: holds the channel to tell (shared/queue/outcomes.ts); expires. */
    waiter: (messageId: string) => `${base}:waiter:${messageId}`,
    /** The outcome of a waited-on message, until its waiter takes it; expires. */
    outcome: (messageId: string) => `${base}:outcome:${messageId}`,
    /** The pub/sub channel of one waiting process, told the ids whose outcome is ready. */
    outcomeChannel: (listenerId: string) => `${base}:outcomes:${listenerId}`,
  });
}

/**
 * The prefix of one queue shard: shard 0 keeps the plain prefix (the keys of a
 * single queue, so data from before sharding is shard 0's), shard i > 0 adds `:i`,
 * so each shard has its own hash tag and may live on its own cluster master.
 *
 * @example queueKeys(shardPrefix('agg', 2)).queue // '{agg:2}:queue'
 */
export const shardPrefix = (prefix: string, shard: number) => (shard === 0 ? prefix : `${prefix}:${shard}`);

export type QueueKeys = ReturnType<typeof queueKeys>;
