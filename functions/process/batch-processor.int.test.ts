import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countEvents } from '../../shared/db/event.repository.ts';
import { encodeMessage, type QueueMessage } from '../../shared/queue/message.ts';
import { createHarness, event, type Harness } from '../../test/support/harness.ts';
import { storeInTransaction } from './store-messages.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness('processor', { MAX_ATTEMPTS: '3' });
});
afterAll(() => h.cleanup());

const never = new AbortController().signal;
const message = (id: string, ids: string[], topic = 'p'): QueueMessage => ({
  id,
  events: ids.map((eventId) => event({ topic, event_id: eventId }) as QueueMessage['events'][number]),
});
const claimAll = async () => (await h.queue.claim({ maxMessages: 100, maxEvents: 10_000, leaseMs: 10_000 }))!;
const invariant = async () => {
  const c = await h.queue.counters();
  const pg = await h.db.selectFrom('topic_counters').select((eb) => [eb.fn.sum<string>('unique_count').as('u'), eb.fn.sum<string>('duplicate_count').as('d')]).executeTakeFirstOrThrow();
  const unique = Number(pg.u ?? 0);
  expect(c.received).toBe(unique + Number(pg.d ?? 0) + c.pending + c.deadLettered);
  expect(await countEvents(h.db)).toBe(unique);
};

describe('processBatch', () => {
  it('stores a batch, acknowledges it and keeps the invariant', async () => {
    await h.queue.enqueue(message('ok-1', ['a', 'b', 'a']), 1000);
    await h.queue.enqueue(message('ok-2', ['b', 'c']), 1000);
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ messages: 2, events: 5, unique: 3, duplicates: 2, deadLettered: 0, redelivered: 0, acknowledged: true });
    expect((await h.queue.counters()).pending).toBe(0);
    await invariant();
  });

  it('recognises a redelivered batch that was already committed and only acknowledges it', async () => {
    await h.queue.enqueue(message('again', ['x', 'y']), 1000);
    const first = await claimAll();
    // A worker that committed and died before its acknowledgement: the same messages come back.
    await storeInTransaction(h.db, [message('again', ['x', 'y'])], 1, new Set());
    await h.queue.release(first.claimId);
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ events: 0, unique: 0, duplicates: 0, redelivered: 1, acknowledged: true });
    await invariant();
  });

  it('parks a message PostgreSQL refuses and stores the rest of its batch', async () => {
    const poison: QueueMessage = { id: 'poison', events: [event({ topic: 'p', event_id: 'bad', timestamp: '2026-02-30T00:00:00Z' }) as QueueMessage['events'][number]] };
    await h.queue.enqueue(message('good-1', ['g1']), 1000);
    await h.queue.enqueue(poison, 1000);
    await h.queue.enqueue(message('good-2', ['g2']), 1000);
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ events: 2, unique: 2, deadLettered: 1, acknowledged: true });
    const [dead] = await h.redis.lrange(h.queue.keys.dead, 0, -1);
    expect(JSON.parse(dead!)).toMatchObject({ reason: expect.stringContaining('refused by PostgreSQL'), events: 1, raw: encodeMessage(poison) });
    await invariant();
  });

  it('parks garbage pushed by hand without counting it as received', async () => {
    await h.redis.lpush(h.queue.keys.queue, 'not a message at all');
    await h.queue.enqueue(message('beside-garbage', ['z']), 1000);
    const before = await h.queue.counters();
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ unique: 1, deadLettered: 0, acknowledged: true });
    expect(await h.queue.counters()).toEqual({ ...before, pending: before.pending - 1 });
    const dead = (await h.redis.lrange(h.queue.keys.dead, 0, -1)).map((d) => JSON.parse(d) as { reason: string; raw: string });
    expect(dead.find((d) => d.raw === 'not a message at all')?.reason).toBe('invalid message: no event count prefix');
    await invariant();
  });

  it('parks a message claimed too often without an acknowledgement', async () => {
    await h.queue.enqueue(message('crashy', ['c1', 'c2']), 1000);
    await h.redis.hset(h.queue.keys.attempts, 'crashy', '3');
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ events: 0, deadLettered: 2, acknowledged: true });
    expect(await h.redis.hget(h.queue.keys.attempts, 'crashy')).toBeNull();
    await invariant();
    // A worker that held it long ago and commits only now finds it parked, and stores nothing of it.
    const late = await storeInTransaction(h.db, [message('crashy', ['c1', 'c2'])], 2, new Set());
    expect(late).toMatchObject({ committed: [], unique: 0 });
    expect(late.parked.map((m) => m.id)).toEqual(['crashy']);
    await invariant();
  });

  it('parks again a message whose first parking never reached Redis (its acknowledgement was lost)', async () => {
    await h.queue.enqueue(message('lost-park', ['p1', 'p2']), 1000);
    // The first parking committed its record, then the worker died before its acknowledgement.
    await storeInTransaction(h.db, [message('lost-park', ['p1', 'p2'])], 4, new Set(['lost-park']));
    await h.redis.hset(h.queue.keys.attempts, 'lost-park', '4');
    const before = await h.queue.counters();
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ deadLettered: 2, redelivered: 0, acknowledged: true });
    expect(await h.queue.counters()).toEqual({ ...before, pending: before.pending - 2, deadLettered: before.deadLettered + 2 });
    await invariant();
  });

  it('does not park a message over its attempts that a late worker already committed', async () => {
    await h.queue.enqueue(message('late', ['l1']), 1000);
    await storeInTransaction(h.db, [message('late', ['l1'])], 3, new Set());
    await h.redis.hset(h.queue.keys.attempts, 'late', '3');
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ deadLettered: 0, redelivered: 1, acknowledged: true });
    await invariant();
  });
});
