import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { startPrivateRedis } from '../../dev/private-redis.ts';
import { testRedis } from '../../dev/services.ts';
import { event } from '../../dev/harness.ts';
import { waitFor } from '../../dev/wait.ts';
import { decodeMessage, type QueueMessage } from './message.ts';
import { EventQueue, type Claim } from './queue.ts';

// The queue over QUEUE_SHARDS shards (queue.ts), on the local Redis: where messages go, how claims take
// turns, what adds up, and how lowering the shard count drains the shards left over.

const r = testRedis('sharded');
afterAll(r.cleanup);

let prefix: string;
let n = 0;
beforeEach(() => {
  prefix = `${r.prefix}-${n++}`;
});

const message = (id: string, events = 1): QueueMessage => ({
  id,
  events: Array.from({ length: events }, (_, i) => event({ event_id: `${id}-${i}` }) as QueueMessage['events'][number]),
});
const options = { maxMessages: 100, maxEvents: 10_000, leaseMs: 10_000 };
const idsOf = (claim: Claim) => claim.messages.map((raw) => {
  const decoded = decodeMessage(raw);
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.message.id;
});

/** A message id that `queue` sends to shard `index`. */
function idOnShard(queue: EventQueue, index: number, tag: string): string {
  for (let i = 0; ; i++) if (queue.shardFor(`${tag}-${i}`).index === index) return `${tag}-${i}`;
}

/** Claims until every shard is empty; the claims in the order taken. */
async function claimAll(queue: EventQueue, maxMessages = 100): Promise<Claim[]> {
  const claims: Claim[] = [];
  for (let claim = await queue.claim({ ...options, maxMessages }); claim; claim = await queue.claim({ ...options, maxMessages })) claims.push(claim);
  return claims;
}

describe('a queue of three shards', () => {
  it('spreads messages over shards with their own hash tags, shard 0 keeping the keys of one queue', async () => {
    const queue = new EventQueue(r.redis, prefix, { shards: 3 });
    for (let i = 0; i < 60; i++) await queue.enqueue(message(`m${i}`, 2), 1_000);
    expect(queue.shards.map((s) => s.keys.queue)).toEqual([`{${prefix}}:queue`, `{${prefix}:1}:queue`, `{${prefix}:2}:queue`]);
    const lengths = await Promise.all(queue.shards.map((s) => r.redis.llen(s.keys.queue)));
    expect(lengths.every((length) => length > 5)).toBe(true);
    expect(lengths.reduce((a, b) => a + b)).toBe(60);
    // Each shard counts its own; the queue adds them up.
    const own = await Promise.all(queue.shards.map((s) => s.counters()));
    expect(own.map((c) => c.received)).toEqual(lengths.map((l) => l * 2));
    expect(await queue.counters()).toEqual({ received: 120, pending: 120, deadLettered: 0 });
    expect(await queue.depth()).toEqual({ queuedMessages: 60, batchesInFlight: 0 });
    // Found again by its id alone: how ingest finds the shard whose replicas must confirm.
    expect(await r.redis.lrange(queue.shardFor('m7').keys.queue, 0, -1)).toContainEqual(expect.stringContaining('|m7|'));
  });

  it('claims from each shard in turn, so a full shard does not starve the others', async () => {
    const queue = new EventQueue(r.redis, prefix, { shards: 3 });
    for (let i = 0; i < 60; i++) await queue.enqueue(message(`m${i}`), 1_000);
    const firstThree = [await queue.claim({ ...options, maxMessages: 1 }), await queue.claim({ ...options, maxMessages: 1 }), await queue.claim({ ...options, maxMessages: 1 })];
    expect(new Set(firstThree.map((c) => queue.shardFor(idsOf(c!)[0]!).index))).toEqual(new Set([0, 1, 2]));
  });

  it('says a claim drained the queue only once no shard holds a message', async () => {
    const queue = new EventQueue(r.redis, prefix, { shards: 3 });
    await queue.enqueue(message(idOnShard(queue, 0, 'a')), 1_000);
    await queue.enqueue(message(idOnShard(queue, 2, 'b')), 1_000);
    // The first claim empties shard 0 while shard 2 still holds a message; the second empties the queue.
    const first = (await queue.claim(options))!;
    expect(queue.shardFor(idsOf(first)[0]!).index).toBe(0);
    expect(first.drained).toBe(false);
    const second = (await queue.claim(options))!;
    expect(second.drained).toBe(true);
    expect(await queue.claim(options)).toBeNull();
  });

  it('hands a claim over even when the other shards cannot be read, as not drained', async () => {
    const queue = new EventQueue(r.redis, prefix, { shards: 2 });
    await queue.enqueue(message(idOnShard(queue, 0, 'a')), 1_000);
    // Shard 1's queue key holds a string: LLEN on it fails with WRONGTYPE.
    await r.redis.set(queue.shards[1]!.keys.queue, 'not a list');
    const claim = (await queue.claim(options))!;
    expect(idsOf(claim)).toHaveLength(1);
    expect(claim.drained).toBe(false);
  });

  it('acknowledges, renews and releases each claim in its own shard', async () => {
    const queue = new EventQueue(r.redis, prefix, { shards: 3 });
    for (let i = 0; i < 30; i++) await queue.enqueue(message(`m${i}`, 3), 1_000);
    const claims = await claimAll(queue);
    expect(claims).toHaveLength(3);
    expect(await queue.depth()).toEqual({ queuedMessages: 0, batchesInFlight: 3 });
    const [released, ...acked] = claims;
    for (const claim of acked) {
      expect(await queue.extend(claim.claimId, 10_000)).toBe(true);
      expect(await queue.ack(claim.claimId, { events: claim.messages.length * 3, deadLetters: [], messageIds: idsOf(claim) })).toBe(true);
    }
    expect(await queue.release(released!.claimId, { countAttempt: true })).toBe(released!.messages.length);
    expect(await queue.attempts(idsOf(released!))).toEqual(idsOf(released!).map(() => 1));
    expect(await queue.counters()).toEqual({ received: 90, pending: released!.messages.length * 3, deadLettered: 0 });
    expect(await queue.depth()).toEqual({ queuedMessages: released!.messages.length, batchesInFlight: 0 });
  });

  it('reaps the expired leases of every shard', async () => {
    const queue = new EventQueue(r.redis, prefix, { shards: 3 });
    for (let i = 0; i < 30; i++) await queue.enqueue(message(`m${i}`), 1_000);
    for (let i = 0; i < 3; i++) await queue.claim({ ...options, leaseMs: 100 });
    let reaped = 0;
    await waitFor(async () => (reaped += await queue.reapExpired()) === 30, { what: 'every shard\'s lease reaped' });
    expect(await queue.depth()).toEqual({ queuedMessages: 30, batchesInFlight: 0 });
  });

  it('reports the oldest pending message of any shard, for the gauges', async () => {
    const queue = new EventQueue(r.redis, prefix, { shards: 3 });
    for (let i = 0; i < 30; i++) await queue.enqueue({ ...message(`m${i}`), at: 1_000_000 + i }, 1_000);
    const oldest = queue.shardFor('m0');
    expect(await queue.oldestPendingAt()).toBe(1_000_000);
    // The oldest one claimed (in flight) still counts; once acknowledged, the next oldest of any shard does.
    const claim = (await oldest.claim({ ...options, maxMessages: 1 }))!;
    expect(idsOf(claim)).toEqual(['m0']);
    expect(await queue.oldestPendingAt()).toBe(1_000_000);
    await queue.ack(claim.claimId, { events: 1, deadLetters: [], messageIds: ['m0'] });
    expect(await queue.oldestPendingAt()).toBe(1_000_001);
  });

  it('refuses past MAX_QUEUE_LENGTH counted over all shards, whichever shard a message goes to', async () => {
    const queue = new EventQueue(r.redis, prefix, { shards: 3 });
    const outcomes = [];
    for (let i = 0; i < 12; i++) outcomes.push(await queue.enqueue(message(`m${i}`, 3), 10));
    expect(outcomes.filter((o) => o === 'queued')).toHaveLength(3);
    expect(await queue.counters()).toEqual({ received: 9, pending: 9, deadLettered: 0 });
    const claimed = await queue.enqueueClaimed(message('sync', 2), 10_000, 10);
    expect(claimed).toBe('full');
  });

  it('refuses what another process queued on other shards once its view of them is renewed, within 100 ms', async () => {
    // Two ingest processes: each checks its enqueue's own shard exactly, the others as it saw them at most 100 ms ago.
    const [a, b] = [new EventQueue(r.redis, prefix, { shards: 3 }), new EventQueue(r.redis, prefix, { shards: 3 })];
    expect(await b.enqueue(message(idOnShard(b, 0, 'b-first')), 30)).toBe('queued'); // b reads every shard: 0 pending
    const outcomes = [];
    for (let i = 0; i < 40; i++) outcomes.push(await a.enqueue(message(idOnShard(a, 1 + (i % 2), `a${i}`)), 30));
    // a saw b's event when it first read the shards, and counts its own exactly after that.
    expect(outcomes.filter((o) => o === 'queued')).toHaveLength(29);
    // b still holds shards 1 and 2 as empty until it reads them again: until then its shard 0 takes more.
    let unseen = 0;
    await waitFor(async () => {
      const outcome = await b.enqueue(message(idOnShard(b, 0, `b${unseen}`)), 30);
      if (outcome === 'queued') unseen++;
      return outcome === 'full';
    }, { timeoutMs: 5_000, intervalMs: 10, what: 'b to refuse' });
    expect((await a.counters()).pending).toBe(30 + unseen);
    // Never reading them again, b would have taken shard 0 to the limit alone (29 more); one try every 10 ms for
    // at most 100 ms is fewer. Once read, every shard is full to b.
    expect(unseen).toBeLessThan(29);
    for (const shard of b.shards) expect(await b.enqueue(message(idOnShard(b, shard.index, 'b-late')), 30), `shard ${shard.index}`).toBe('full');
  });

  it('lists the dead letters of every shard under ids of their own, and replays or drops each in its shard', async () => {
    const queue = new EventQueue(r.redis, prefix, { shards: 3 });
    for (let i = 0; i < 30; i++) await queue.enqueue(message(`m${i}`), 1_000);
    for (const claim of await claimAll(queue, 1)) {
      const deadLetters = claim.messages.map((raw) => ({ raw, reason: 'refused', attempts: 1, events: 1 }));
      await queue.ack(claim.claimId, { events: 1, deadLetters, messageIds: idsOf(claim) });
    }
    const letters = await queue.deadLetters();
    expect(letters).toHaveLength(30);
    expect(new Set(letters.map((l) => l.id)).size).toBe(30);
    expect(new Set(letters.map((l) => l.shard))).toEqual(new Set([0, 1, 2]));
    expect((await queue.deadLetters()).map((l) => l.id)).toEqual(letters.map((l) => l.id)); // stable
    expect(letters.map((l) => l.at)).toEqual(letters.map((l) => l.at).sort().reverse()); // newest first

    const [toReplay, toDrop] = [letters.find((l) => l.shard === 2)!, letters.find((l) => l.shard === 1)!];
    expect(await queue.replay(toReplay)).toBe(true);
    expect(await queue.drop(toDrop)).toBe(true);
    expect(await r.redis.llen(queue.shards[2]!.keys.queue)).toBe(1);
    expect((await queue.deadLetters()).map((l) => l.id)).not.toContain(toDrop.id);
    expect(await queue.counters()).toEqual({ received: 30, pending: 1, deadLettered: 29 });
  });
});

describe('changing QUEUE_SHARDS', () => {
  it('from 3 to 1 with QUEUE_SHARDS_DRAIN=3: the old shards are claimed to the end and still counted', async () => {
    const before = new EventQueue(r.redis, prefix, { shards: 3 });
    for (let i = 0; i < 30; i++) await before.enqueue(message(`m${i}`, 2), 1_000);
    const inFlight = (await before.claim(options))!;

    const after = new EventQueue(r.redis, prefix, { shards: 1, readShards: 3 });
    await after.enqueue(message('new', 2), 1_000);
    expect(await r.redis.llen(after.shards[0]!.keys.queue)).toBeGreaterThan(0);
    expect(after.shardFor('new').index).toBe(0); // only shard 0 is written
    // A claim taken before the restart is still acknowledged in its shard.
    expect(await after.ack(inFlight.claimId, { events: inFlight.messages.length * 2, deadLetters: [], messageIds: idsOf(inFlight) })).toBe(true);
    for (const claim of await claimAll(after)) {
      await after.ack(claim.claimId, { events: claim.messages.length * 2, deadLetters: [], messageIds: idsOf(claim) });
    }
    expect(await after.counters()).toEqual({ received: 62, pending: 0, deadLettered: 0 });
    expect(await after.depth()).toEqual({ queuedMessages: 0, batchesInFlight: 0 });
  });

  it('from 3 to 1 without it: the old shards are left unread, which is why the drain setting exists', async () => {
    const before = new EventQueue(r.redis, prefix, { shards: 3 });
    for (let i = 0; i < 30; i++) await before.enqueue(message(`m${i}`), 1_000);
    const after = new EventQueue(r.redis, prefix, { shards: 1 });
    await claimAll(after);
    expect((await before.depth()).queuedMessages).toBeGreaterThan(0);
    await expect(after.release('2.some-claim')).rejects.toThrow(/QUEUE_SHARDS_DRAIN/);
  });

  it('from 1 to 3: what one shard holds is shard 0, read as before', async () => {
    const before = new EventQueue(r.redis, prefix);
    for (let i = 0; i < 10; i++) await before.enqueue(message(`m${i}`), 1_000);
    const after = new EventQueue(r.redis, prefix, { shards: 3 });
    expect((await claimAll(after)).flatMap(idsOf).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
    expect(await after.counters()).toEqual({ received: 10, pending: 10, deadLettered: 0 });
  });
});

describe('backpressure over shards, in Redis commands', () => {
  it('costs at most one command an enqueue, not one more a shard: the other shards are read at most every 100 ms', async () => {
    const server = await startPrivateRedis({ durable: false });
    const redis = new Redis(server.url);
    try {
      const shards = 4;
      // Another process loads the script (EVALSHA, NOSCRIPT, then EVAL): this one starts with no view of the shards.
      await new EventQueue(redis, 'commands', { shards }).enqueue(message('warm-up'), 1_000_000);
      const queue = new EventQueue(redis, 'commands', { shards });
      await redis.config('RESETSTAT');
      const enqueues = 1_000;
      const started = performance.now();
      for (let i = 0; i < enqueues; i += 20) {
        await Promise.all(Array.from({ length: 20 }, (_, j) => queue.enqueue(message(`m${i + j}`), 1_000_000)));
      }
      const elapsedMs = performance.now() - started;
      const calls = Object.fromEntries([...(await redis.info('commandstats')).matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
      // commandstats also counts what scripts call (enqueue.lua: HGET, HINCRBY, LPUSH): only these came from the client.
      const { evalsha = 0, eval: evalCalls = 0, hmget = 0, ...others } = calls;
      // The 20 enqueues of a turn go as one call to each shard they hash to; those of a turn in which the
      // view of the other shards grew stale (every 100 ms) go in two: the ones before in this turn, the
      // ones after once the view is read again.
      const renewals = Math.floor(elapsedMs / 100) + 1;
      expect(evalsha + evalCalls).toBeGreaterThanOrEqual(enqueues / 20);
      expect(evalsha + evalCalls).toBeLessThanOrEqual((enqueues / 20) * shards + shards * renewals);
      expect(Object.keys(others).sort()).toEqual(['hget', 'hincrby', 'lpush']);
      // Reads of the shards start at least 100 ms apart, each one HMGET a shard (the first at the first enqueue);
      // reading the other shards on every request would be 3,000.
      expect(hmget).toBeGreaterThanOrEqual(shards);
      expect(hmget).toBeLessThanOrEqual(shards * (Math.floor(elapsedMs / 100) + 1));
      console.log(`${((evalsha + evalCalls + hmget) / enqueues).toFixed(3)} commands an enqueue over ${shards} shards (${hmget} HMGET in ${Math.round(elapsedMs)} ms)`);
    } finally {
      redis.disconnect();
      await server.destroy();
    }
  });
});
