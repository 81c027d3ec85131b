import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { startPrivateRedis } from '../../dev/private-redis.ts';
import { testRedis } from '../../dev/services.ts';
import { waitFor } from '../../dev/wait.ts';
import { event } from '../../dev/harness.ts';
import { acceptedAtOf, batchesOf, decodeMessage, encodeMessage, type QueueMessage } from './message.ts';
import { EventQueue } from './queue.ts';

const r = testRedis('queue');
afterAll(r.cleanup);

let queue: EventQueue;
let n = 0;
beforeEach(async () => {
  // A prefix per test, so that each starts from an empty queue.
  queue = new EventQueue(r.redis, `${r.prefix}-${n++}`);
});

const message = (id: string, events = 1): QueueMessage => ({
  id,
  events: Array.from({ length: events }, (_, i) => event({ event_id: `${id}-${i}` }) as QueueMessage['events'][number]),
});

const idsOf = (messages: string[]) => messages.map((raw) => {
  const decoded = decodeMessage(raw);
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.message.id;
});

describe('enqueue', () => {
  it('pushes the message and counts its events as received and pending in one step', async () => {
    expect(await queue.enqueue(message('a', 3), 100)).toBe('queued');
    expect(await queue.counters()).toEqual({ received: 3, pending: 3, deadLettered: 0 });
    expect(await r.redis.llen(queue.keys.queue)).toBe(1);
  });

  it('refuses a message that would take pending past the limit, and counts nothing of it', async () => {
    await queue.enqueue(message('a', 8), 10);
    expect(await queue.enqueue(message('b', 3), 10)).toBe('full');
    expect(await queue.counters()).toEqual({ received: 8, pending: 8, deadLettered: 0 });
    expect(await r.redis.llen(queue.keys.queue)).toBe(1);
  });
});

describe('the enqueue script, called directly', () => {
  type Enqueue = (...args: Array<string | number>) => Promise<unknown>;
  const enqueueScript: Enqueue = (...args) => (r.redis as unknown as { aggEnqueue: Enqueue }).aggEnqueue(...args);

  it.each([
    ['an id with a colon, joined', 'join', ['a:1', 1, 100, '[{}]', 'b', 1, 100, '[{}]'], /without : or ,/],
    ['an id with a comma, joined', 'join', ['a', 1, 100, '[{}]', 'b,2', 1, 100, '[{}]'], /without : or ,/],
    ['an id with a leading bracket, joined', 'join', ['[a', 1, 100, '[{}]', 'b', 1, 100, '[{}]'], /leading \[/],
    ['events that are an object', 'apart', ['a', 1, 100, '{"topic":"t"}'], /must be a JSON array/],
    ['events without their closing bracket', 'apart', ['a', 1, 100, '[{}'], /must be a JSON array/],
    ['events without their opening bracket', 'apart', ['a', 1, 100, '{}]'], /must be a JSON array/],
    ['a request without events, joined', 'join', ['a', 0, 100, '[]', 'b', 1, 100, '[{}]'], /needs events/],
    ['an id with a bar', 'apart', ['a|b', 1, 100, '[{}]'], /without \|/],
    ['an event count that is not whole', 'apart', ['a', 1.5, 100, '[{}]'], /whole number/],
    ['a mode other than join or apart', 'glue', ['a', 1, 100, '[{}]'], /join or apart/],
  ])('refuses %s, and writes nothing', async (_, mode, requests, error) => {
    await queue.enqueue(message('already-queued'), 100); // the state a refusal must leave as it was
    await expect(enqueueScript(queue.keys.queue, queue.keys.counters, '', mode as string, ...(requests as Array<string | number>))).rejects.toThrow(error as RegExp);
    expect(await queue.counters()).toEqual({ received: 1, pending: 1, deadLettered: 0 });
    expect(await r.redis.llen(queue.keys.queue)).toBe(1);
  });

  it('joins ids that hold neither : nor , and arrays of events', async () => {
    await queue.enqueue(message('already-queued'), 100); // pending 1 before the two
    expect(await enqueueScript(queue.keys.queue, queue.keys.counters, '', 'join', 'a.1', 1, 100, '[{}]', 'b-2', 1, 100, '[{}]')).toEqual([2, 3]);
  });
});

describe('enqueue, several in one turn of the event loop', () => {
  // A Redis of its own: its command counts are this test's alone.
  async function withPrivateRedis(test: (redis: Redis, scriptCalls: () => Promise<number>) => Promise<void>) {
    const server = await startPrivateRedis({ durable: false });
    const redis = new Redis(server.url);
    const scriptCalls = async () => {
      const calls = Object.fromEntries([...(await redis.info('commandstats')).matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
      return (calls.evalsha ?? 0) + (calls.eval ?? 0);
    };
    try {
      await test(redis, scriptCalls);
    } finally {
      redis.disconnect();
      await server.destroy();
    }
  }

  it('go as one script call and one message, each request admitted on its own and in order, as if sent one by one', async () => {
    await withPrivateRedis(async (redis, scriptCalls) => {
      const turn = new EventQueue(redis, 'turn');
      await turn.enqueue(message('warm-up', 0), 10); // loads the script
      await redis.config('RESETSTAT');
      const sizes = { a: 3, b: 5, c: 4, d: 1, e: 2 }; // against a limit of 10: c and e would pass it
      const sent = Object.entries(sizes).map(([id, events]) => message(id, events));
      const outcomes = await Promise.all(sent.map((m) => turn.enqueue({ ...m, at: 1_764_489_600_000 }, 10)));
      expect(outcomes).toEqual(['queued', 'queued', 'full', 'queued', 'full']);
      expect(await scriptCalls()).toBe(1);
      expect(await turn.counters()).toEqual({ received: 9, pending: 9, deadLettered: 0 });
      const claim = await turn.claim({ maxMessages: 10, maxEvents: 100, leaseMs: 10_000 });
      expect(claim && idsOf(claim.messages)).toEqual(['warm-up', 'a']);
      // The accepted requests, in order, in one message named after the first, each its own batch.
      const joined = decodeMessage(claim!.messages[1]!);
      const [a, b, , d] = sent as [QueueMessage, QueueMessage, QueueMessage, QueueMessage];
      expect(joined).toMatchObject({ ok: true, message: { id: 'a', at: 1_764_489_600_000, events: [...a.events, ...b.events, ...d.events] } });
      expect(joined.ok && batchesOf(joined.message)).toEqual([a, b, d].map(({ id, events }) => ({ id, events })));
      expect(claim!.messages[1]!.startsWith('9|1764489600000|a|a:3,b:5,d:1|[{')).toBe(true);
    });
  });

  it('share a message only within 1,000 events, and one with an id a batch list cannot hold goes alone', async () => {
    const sizes = [600, 300, 200, 1_200, 1, 1];
    const ids = ['p', 'q', 'r', 's', 'odd:id', '[u'];
    const outcomes = await Promise.all(ids.map((id, i) => queue.enqueue(message(id, sizes[i]), 100_000)));
    expect(new Set(outcomes)).toEqual(new Set(['queued']));
    const claim = await queue.claim({ maxMessages: 10, maxEvents: 100_000, leaseMs: 10_000 });
    const batches = claim!.messages.map((raw) => {
      const decoded = decodeMessage(raw);
      if (!decoded.ok) throw new Error(decoded.reason);
      return batchesOf(decoded.message).map((b) => `${b.id}:${b.events.length}`);
    });
    expect(batches).toEqual([['p:600', 'q:300'], ['r:200'], ['s:1200'], ['odd:id:1'], ['[u:1']]);
    expect(await queue.counters()).toEqual({ received: 2_302, pending: 2_302, deadLettered: 0 });
  });

  it('go as one call but a message each with QUEUE_MESSAGE_MAX_REQUESTS=1, as a process older than joining reads them', async () => {
    await withPrivateRedis(async (redis, scriptCalls) => {
      const apart = new EventQueue(redis, 'apart', { messageMaxRequests: 1 });
      await apart.enqueue(message('warm-up', 0), 10);
      await redis.config('RESETSTAT');
      expect(await Promise.all(['a', 'b', 'c'].map((id) => apart.enqueue({ ...message(id, 2), at: 1_764_489_600_000 }, 100)))).toEqual(['queued', 'queued', 'queued']);
      expect(await scriptCalls()).toBe(1);
      const claim = await apart.claim({ maxMessages: 10, maxEvents: 100, leaseMs: 10_000 });
      expect(claim!.messages.slice(1)).toEqual(['a', 'b', 'c'].map((id) => encodeMessage({ ...message(id, 2), at: 1_764_489_600_000 })));
    });
  });

  it('go in calls of at most 100 requests', async () => {
    await withPrivateRedis(async (redis, scriptCalls) => {
      const turn = new EventQueue(redis, 'turn');
      await turn.enqueue(message('warm-up', 0), 10);
      await redis.config('RESETSTAT');
      const outcomes = await Promise.all(Array.from({ length: 250 }, (_, i) => turn.enqueue(message(`m${i}`), 1_000)));
      expect(new Set(outcomes)).toEqual(new Set(['queued']));
      expect(await scriptCalls()).toBe(3);
      expect(await turn.counters()).toEqual({ received: 250, pending: 250, deadLettered: 0 });
    });
  });

  it('count nothing when the push itself fails (a queue key of the wrong type)', async () => {
    await r.redis.set(queue.keys.queue, 'not a list');
    const outcomes = await Promise.allSettled(['a', 'b'].map((id) => queue.enqueue(message(id), 100)));
    expect(outcomes.map((o) => o.status === 'rejected' && String(o.reason))).toEqual(Array(2).fill(expect.stringMatching(/WRONGTYPE/)));
    expect(await r.redis.hgetall(queue.keys.counters)).toEqual({});
  });

  it('all fail when their call fails, and nothing of any is done', async () => {
    await r.redis.hset(queue.keys.counters, 'received', '1.5');
    const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((id) => queue.enqueue(message(id), 100)));
    expect(outcomes.map((o) => o.status === 'rejected' && String(o.reason))).toEqual(Array(3).fill(expect.stringMatching(/not an integer/)));
    expect(await r.redis.llen(queue.keys.queue)).toBe(0);
    expect(await r.redis.hget(queue.keys.counters, 'pending')).toBeNull();
  });
});

describe('replay', () => {
  /** A letter parked for a message holding requests a (2 events) and b (1 event). */
  async function parkJoined(q: EventQueue) {
    const joined: QueueMessage = { id: 'a', at: 1_764_489_600_000, events: [...message('a', 2).events, ...message('b', 1).events], batches: [{ id: 'a', events: 2 }, { id: 'b', events: 1 }] };
    const claim = await q.enqueueClaimed(joined, 60_000, 100);
    if (claim === 'full') throw new Error('refused under the limit');
    await q.ack(claim.claimId, { events: 3, deadLetters: [{ raw: encodeMessage(joined), reason: 'test', attempts: 1, events: 3 }], messageIds: ['a'] });
    const [letter] = await q.deadLetters();
    return letter!;
  }
  const replayed = async (q: EventQueue) => (await q.claim({ maxMessages: 10, maxEvents: 100, leaseMs: 10_000 }))!.messages;

  it('puts each request of a letter back as a message of its own, in order, keeping its batch id', async () => {
    expect(await queue.replay(await parkJoined(queue))).toBe(true);
    expect(await queue.counters()).toEqual({ received: 3, pending: 3, deadLettered: 0 });
    const messages = await replayed(queue);
    expect(messages.map((raw) => { const d = decodeMessage(raw); return d.ok && batchesOf(d.message).map((b) => [b.id, b.events.length]); })).toEqual([[['a', 2]], [['b', 1]]]);
    expect(messages.every((raw) => !/^\d+\|\d*\|[ab]\|/.test(raw))).toBe(true); // under new message ids
  });

  it('writes them as older process functions read them when messages are written one a request', async () => {
    const apart = new EventQueue(r.redis, `${r.prefix}-${n++}`, { messageMaxRequests: 1 });
    expect(await apart.replay(await parkJoined(apart))).toBe(true);
    expect((await replayed(apart)).map((raw) => raw.split('|').length)).toEqual([4, 4]); // no batch list
  });

  it('leaves the letter parked when the queue key cannot take it', async () => {
    const letter = await parkJoined(queue);
    await r.redis.set(queue.keys.queue, 'not a list');
    await expect(queue.replay(letter)).rejects.toThrow(/not a list/);
    expect(await queue.deadLetters()).toEqual([letter]);
    expect(await queue.counters()).toEqual({ received: 3, pending: 0, deadLettered: 3 });
  });
});

describe('claim', () => {
  it('takes the oldest messages first, moves them to the batch list and leases the batch, saying when it emptied the queue', async () => {
    for (const id of ['m1', 'm2', 'm3']) await queue.enqueue(message(id), 100);
    const batch = await queue.claim({ maxMessages: 2, maxEvents: 100, leaseMs: 10_000 });
    expect(batch && idsOf(batch.messages)).toEqual(['m1', 'm2']);
    expect(batch!.drained).toBe(false);
    expect(await r.redis.lrange(queue.keys.processing(batch!.claimId), 0, -1)).toEqual(batch!.messages);
    expect(await r.redis.zscore(queue.keys.leases, batch!.claimId)).not.toBeNull();
    expect(await r.redis.llen(queue.keys.queue)).toBe(1);
    const next = await queue.claim({ maxMessages: 2, maxEvents: 100, leaseMs: 10_000 });
    expect(next && idsOf(next.messages)).toEqual(['m3']);
    expect(next!.drained).toBe(true);
    expect(await queue.claim({ maxMessages: 2, maxEvents: 100, leaseMs: 10_000 })).toBeNull();
  });

  it('stops at the event limit but always takes at least one message', async () => {
    await queue.enqueue(message('big', 50), 1000);
    await queue.enqueue(message('small', 5), 1000);
    const first = await queue.claim({ maxMessages: 10, maxEvents: 20, leaseMs: 10_000 });
    expect(first && idsOf(first.messages)).toEqual(['big']);
    expect(first!.drained).toBe(false);
    const second = await queue.claim({ maxMessages: 10, maxEvents: 20, leaseMs: 10_000 });
    expect(second && idsOf(second.messages)).toEqual(['small']);
    expect(second!.drained).toBe(true);
  });

  it('answers the attempts of what it claims: a message with attempts comes alone, with its count', async () => {
    for (const id of ['m1', 'm2', 'm3']) await queue.enqueue(message(id), 100);
    await r.redis.hset(queue.keys.attempts, 'm2', '2');
    const take = () => queue.claim({ maxMessages: 10, maxEvents: 100, leaseMs: 10_000 });
    expect(await take()).toMatchObject({ attempts: [0] }); // m1, stopped before the retried m2
    expect(await take()).toMatchObject({ attempts: [2] });
    const last = await take();
    expect(last && { ids: idsOf(last.messages), attempts: last.attempts }).toEqual({ ids: ['m3'], attempts: [0] });
  });

  it('never gives one message to two concurrent claimers', async () => {
    for (let i = 0; i < 200; i++) await queue.enqueue(message(`m${i}`), 10_000);
    const claims = await Promise.all(Array.from({ length: 20 }, () => queue.claim({ maxMessages: 7, maxEvents: 1000, leaseMs: 10_000 })));
    const ids = claims.flatMap((batch) => (batch ? idsOf(batch.messages) : []));
    expect(ids).toHaveLength(140);
    expect(new Set(ids).size).toBe(140);
  });
});

describe('scripts check before they change', () => {
  it('acknowledge a lone message with no events (garbage pushed by hand) and park it', async () => {
    await r.redis.lpush(queue.keys.queue, 'garbage');
    const batch = (await queue.claim({ maxMessages: 10, maxEvents: 100, leaseMs: 10_000 }))!;
    const dead = { raw: 'garbage', reason: 'invalid message', attempts: 1, events: 0 };
    expect(await queue.ack(batch.claimId, { events: 0, deadLetters: [dead], messageIds: [] })).toBe(true);
    expect((await queue.deadLetters()).map((d) => d.raw)).toEqual(['garbage']);
    expect(await queue.depth()).toEqual({ queuedMessages: 0, batchesInFlight: 0 });
    expect(await queue.counters()).toEqual({ received: 0, pending: 0, deadLettered: 0 });
  });

  it('refuse a bad argument or a corrupt counter before changing anything', async () => {
    await queue.enqueue(message('a', 2), 100);
    const batch = (await queue.claim({ maxMessages: 10, maxEvents: 100, leaseMs: 10_000 }))!;
    await expect(queue.ack(batch.claimId, { events: -1, deadLetters: [], messageIds: ['a'] })).rejects.toThrow(/whole number/);
    await r.redis.hset(queue.keys.counters, 'dead_lettered', 'lots');
    const dead = { raw: batch.messages[0]!, reason: 'x', attempts: 1, events: 2 };
    await expect(queue.ack(batch.claimId, { events: 2, deadLetters: [dead], messageIds: ['a'] })).rejects.toThrow(/not an integer/);
    // Nothing of either call happened: the claim still holds its lease and its message.
    expect(await r.redis.lrange(queue.keys.processing(batch.claimId), 0, -1)).toEqual(batch.messages);
    expect(await r.redis.zscore(queue.keys.leases, batch.claimId)).not.toBeNull();
    expect(await r.redis.hget(queue.keys.counters, 'pending')).toBe('2');
    expect(await r.redis.llen(queue.keys.dead)).toBe(0);
    await r.redis.hset(queue.keys.counters, 'received', '1.5');
    await expect(queue.enqueue(message('b', 1), 100)).rejects.toThrow(/not an integer/);
    expect(await r.redis.llen(queue.keys.queue)).toBe(0);
    expect(await r.redis.hget(queue.keys.counters, 'pending')).toBe('2');
  });
});

describe('ack', () => {
  it('drops the batch and counts its events out of pending', async () => {
    await queue.enqueue(message('a', 4), 100);
    const batch = (await queue.claim({ maxMessages: 10, maxEvents: 100, leaseMs: 10_000 }))!;
    expect(await queue.ack(batch.claimId, { events: 4, deadLetters: [], messageIds: ['a'] })).toBe(true);
    expect(await queue.counters()).toEqual({ received: 4, pending: 0, deadLettered: 0 });
    expect(await r.redis.exists(queue.keys.processing(batch.claimId))).toBe(0);
    expect(await queue.ack(batch.claimId, { events: 4, deadLetters: [], messageIds: ['a'] })).toBe(false);
    expect((await queue.counters()).pending).toBe(0);
  });

  it('parks dead letters with their reason and counts them', async () => {
    await queue.enqueue(message('bad', 2), 100);
    const batch = (await queue.claim({ maxMessages: 10, maxEvents: 100, leaseMs: 10_000 }))!;
    const dead = { raw: batch.messages[0]!, reason: 'refused', attempts: 1, events: 2 };
    expect(await queue.ack(batch.claimId, { events: 2, deadLetters: [dead], messageIds: ['bad'] })).toBe(true);
    expect(await queue.counters()).toEqual({ received: 2, pending: 0, deadLettered: 2 });
    const [parked] = await r.redis.lrange(queue.keys.dead, 0, -1);
    expect(JSON.parse(parked!)).toMatchObject({ reason: 'refused', attempts: 1, events: 2, raw: batch.messages[0] });
  });
});

describe('leases', () => {
  it('returns an expired batch to the tail of the queue, counts an attempt, and refuses the late ack', async () => {
    await queue.enqueue(message('m1'), 100);
    await queue.enqueue(message('m2'), 100);
    await queue.enqueue(message('m3'), 100);
    const batch = (await queue.claim({ maxMessages: 2, maxEvents: 100, leaseMs: 50 }))!;
    await waitFor(async () => (await queue.reapExpired()) === 2, { what: 'the lease to expire and be reaped' });
    expect(await queue.attempts(['m1', 'm2', 'm3'])).toEqual([1, 1, 0]);
    expect(await queue.ack(batch.claimId, { events: 2, deadLetters: [], messageIds: [] })).toBe(false);
    // The returned messages come next, in their original order, each alone: one of them may be
    // what killed the worker, and only that one should climb towards MAX_ATTEMPTS.
    const claimIds = async () => idsOf((await queue.claim({ maxMessages: 3, maxEvents: 100, leaseMs: 10_000 }))!.messages);
    expect([await claimIds(), await claimIds(), await claimIds()]).toEqual([['m1'], ['m2'], ['m3']]);
    expect((await queue.counters()).pending).toBe(3);
  });

  it('takes back the attempt of a reaped claim whose worker lived to acknowledge it', async () => {
    await queue.enqueue(message('m1'), 100);
    await queue.enqueue(message('m2'), 100);
    await r.redis.hset(queue.keys.attempts, 'm2', '2');
    const batch = (await queue.claim({ maxMessages: 1, maxEvents: 100, leaseMs: 50 }))!;
    await waitFor(async () => (await queue.reapExpired()) === 1, { what: 'the lease to expire and be reaped' });
    expect(await queue.attempts(['m1'])).toEqual([1]);
    // The worker could not renew (Redis was unreachable, say) but did not die: the attempt is not its.
    expect(await queue.ack(batch.claimId, { events: 1, deadLetters: [], messageIds: ['m1'] })).toBe(false);
    expect(await queue.attempts(['m1', 'm2'])).toEqual([0, 2]);
    expect(await queue.ack(batch.claimId, { events: 1, deadLetters: [], messageIds: ['m1'] })).toBe(false);
    expect(await queue.attempts(['m1'])).toEqual([0]);
    // Not reaped, only released: nothing to take back.
    const other = (await queue.claim({ maxMessages: 1, maxEvents: 100, leaseMs: 10_000 }))!;
    await queue.release(other.claimId, { countAttempt: true });
    expect(await queue.ack(other.claimId, { events: 1, deadLetters: [], messageIds: ['m1'] })).toBe(false);
    expect(await queue.attempts(['m1'])).toEqual([1]);
    expect((await queue.counters()).pending).toBe(2);
  });

  it('keeps a renewed lease from being reaped', async () => {
    await queue.enqueue(message('m1'), 100);
    const batch = (await queue.claim({ maxMessages: 1, maxEvents: 100, leaseMs: 200 }))!;
    expect(await queue.extend(batch.claimId, 60_000)).toBe(true);
    const until = Date.now() + 400;
    while (Date.now() < until) expect(await queue.reapExpired()).toBe(0);
    expect(await queue.ack(batch.claimId, { events: 1, deadLetters: [], messageIds: ['m1'] })).toBe(true);
  });

  it('release hands a batch back at once, in order, without counting an attempt', async () => {
    await queue.enqueue(message('m1'), 100);
    await queue.enqueue(message('m2'), 100);
    const batch = (await queue.claim({ maxMessages: 2, maxEvents: 100, leaseMs: 60_000 }))!;
    expect(await queue.release(batch.claimId)).toBe(2);
    expect(await queue.extend(batch.claimId, 1000)).toBe(false);
    expect(await queue.release(batch.claimId)).toBe(0);
    expect(await queue.attempts(['m1', 'm2'])).toEqual([0, 0]);
    const again = await queue.claim({ maxMessages: 2, maxEvents: 100, leaseMs: 10_000 });
    expect(again && idsOf(again.messages)).toEqual(['m1', 'm2']);
  });

  it('returns several expired batches so that the first to expire is claimed first', async () => {
    for (const id of ['a', 'b', 'c']) await queue.enqueue(message(id), 100);
    await queue.claim({ maxMessages: 1, maxEvents: 100, leaseMs: 30 });
    await queue.claim({ maxMessages: 1, maxEvents: 100, leaseMs: 60 });
    await queue.claim({ maxMessages: 1, maxEvents: 100, leaseMs: 90 });
    await waitFor(async () => (await r.redis.zcount(queue.keys.leases, '-inf', String(Date.now() - 5))) === 3, { what: 'all three leases to expire' });
    expect(await queue.reapExpired()).toBe(3);
    const claimIds = async () => idsOf((await queue.claim({ maxMessages: 3, maxEvents: 100, leaseMs: 10_000 }))!.messages);
    expect([await claimIds(), await claimIds(), await claimIds()]).toEqual([['a'], ['b'], ['c']]);
  });

  it('enqueueClaimed counts the message in and leases it to the caller', async () => {
    const batch = await queue.enqueueClaimed(message('direct', 2), 60_000, 100);
    if (batch === 'full') throw new Error('refused under the limit');
    expect(await queue.counters()).toEqual({ received: 2, pending: 2, deadLettered: 0 });
    expect(await r.redis.llen(queue.keys.queue)).toBe(0);
    expect(await queue.ack(batch.claimId, { events: 2, deadLetters: [], messageIds: ['direct'] })).toBe(true);
    expect((await queue.counters()).pending).toBe(0);
  });
});

describe('messages', () => {
  it('round-trip through the codec, with the header fields explicit', () => {
    const m = message('x', 2);
    expect(decodeMessage(encodeMessage(m))).toEqual({ ok: true, raw: encodeMessage(m), message: m });
    const timed = { ...m, at: 1_764_489_600_000 };
    expect(encodeMessage(timed).startsWith('2|1764489600000|x|[')).toBe(true);
    expect(decodeMessage(encodeMessage(timed))).toMatchObject({ ok: true, message: timed });
    expect(acceptedAtOf(encodeMessage(timed))).toBe(1_764_489_600_000);
    expect(() => encodeMessage({ ...m, id: 'a|b' })).toThrow(/without "\|"/);
  });

  it('round-trip with a batch list: the requests a message holds, each its id and its events in order', () => {
    const [a, b] = [message('a', 2), message('b', 1)];
    const joined: QueueMessage = { id: 'a', at: 1_764_489_600_000, events: [...a.events, ...b.events], batches: [{ id: 'a', events: 2 }, { id: 'b', events: 1 }] };
    const raw = encodeMessage(joined);
    expect(raw.startsWith('3|1764489600000|a|a:2,b:1|[')).toBe(true);
    const decoded = decodeMessage(raw);
    expect(decoded).toEqual({ ok: true, raw, message: joined });
    expect(decoded.ok && batchesOf(decoded.message)).toEqual([{ id: 'a', events: a.events }, { id: 'b', events: b.events }]);
    expect(batchesOf(a)).toEqual([{ id: 'a', events: a.events }]);
    // A replayed message has an id of its own; its requests keep theirs.
    expect(decodeMessage(encodeMessage({ ...joined, id: 'new' }))).toMatchObject({ ok: true, message: { id: 'new', batches: joined.batches } });
    expect(() => encodeMessage({ ...joined, batches: [{ id: 'a,b', events: 3 }] })).toThrow(/batch id/);
  });

  it('still reads a message queued before the header had explicit fields', () => {
    const events = message('x', 1).events;
    const legacy = `1|${JSON.stringify({ id: 'old', at: 1_764_489_600_000, events })}`;
    expect(decodeMessage(legacy)).toMatchObject({ ok: true, message: { id: 'old', at: 1_764_489_600_000, events } });
    expect(acceptedAtOf(legacy)).toBe(1_764_489_600_000);
  });

  it.each([
    ['garbage', 'no event count prefix', 0],
    ['3|not json', 'no <count>|<at>|<id>| header', 0],
    ['1||x|not json', 'events are not valid JSON', 0],
    ['1|soon|x|[]', 'accepted-at is not a number', 0],
    ['0||a|b|[]', 'events are not valid JSON', 0],
    ['1||x|[{"topic":"t"}]', 'an event lacks a required field', 1],
    ['3|{"id":"x","events":not json', 'not valid JSON', 0],
    ['1|{"id":"x"}', 'not a {id, events} message', 0],
    ['1|{"events":[],"id":"x"}', 'not a {id, events} message', 0],
    ['2|{"id":"x","events":[]}', 'event count does not match its prefix', 0],
    ['1|{"id":"x","events":[{"topic":"t"}]}', 'an event lacks a required field', 1],
    ['2||x|x:1,y:2|[{"topic":"t"},{"topic":"t"}]', 'the batch list does not add up to the event count', 2],
    ['2||x|x:1,y:0|[{"topic":"t"},{"topic":"t"}]', 'a batch in the batch list is not <id>:<events>: y:0', 2],
    ['1||x|x:1|not json', 'events are not valid JSON', 0],
  ])('refuses %j: %s', (raw, reason, count) => {
    expect(decodeMessage(raw)).toEqual({ ok: false, raw, reason, count });
  });
});
