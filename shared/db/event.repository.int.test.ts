import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/services.ts';
import { event } from '../../test/support/harness.ts';
import type { Event } from '../event/event.schema.ts';
import type { QueueMessage } from '../queue/message.ts';
import { readCounters } from './counter.repository.ts';
import { listEvents } from './event-read.repository.ts';
import { countEvents, pruneProcessedMessages, storeMessages } from './event.repository.ts';
import { migrateToLatest } from './migrate.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase('repository');
});
afterAll(() => t.drop());

const ev = (topic: string, id: string, extra: Partial<Event> = {}) => event({ topic, event_id: id, ...extra }) as Event;
const store = (messages: QueueMessage[], shard = 0) => t.db.transaction().execute((trx) => storeMessages(trx, messages, shard));

describe('storeMessages', () => {
  it('stores each key once, counting duplicates inside the batch and against earlier batches', async () => {
    const first = await store([{ id: 'r1', events: [ev('a', '1'), ev('a', '2'), ev('a', '1'), ev('b', '1')] }]);
    expect(first).toMatchObject({ fresh: 1, redelivered: 0, events: 4, unique: 3, duplicates: 1 });
    expect(first.droppedKeys()).toEqual([{ topic: 'a', event_id: '1' }]);
    const second = await store([{ id: 'r2', events: [ev('a', '2'), ev('b', '2')] }], 5);
    expect(second).toMatchObject({ events: 2, unique: 1, duplicates: 1 });
    expect(Object.fromEntries(second.perTopic)).toEqual({ a: { unique: 0, duplicates: 1 }, b: { unique: 1, duplicates: 0 } });
    const counters = await readCounters(t.db);
    expect(counters).toMatchObject({ uniqueProcessed: 4, duplicateDropped: 2 });
    expect(counters.topics).toEqual([
      { topic: 'a', unique_processed: 2, duplicate_dropped: 2 },
      { topic: 'b', unique_processed: 2, duplicate_dropped: 0 },
    ]);
    expect(await countEvents(t.db)).toBe(4);
  });

  it('keeps the first event of a key in arrival order', async () => {
    await store([
      { id: 'f1', events: [ev('first', 'k', { source: 'one' })] },
      { id: 'f2', events: [ev('first', 'k', { source: 'two' })] },
    ]);
    const page = await listEvents(t.db, { topic: 'first', order: 'asc', afterSeq: null, limit: 10 });
    expect(page.events.map((e) => e.source)).toEqual(['one']);
  });

  it('changes nothing when a message is delivered again', async () => {
    const before = await readCounters(t.db);
    const again = await store([{ id: 'r1', events: [ev('a', '1'), ev('a', '2'), ev('a', '1'), ev('b', '1')] }]);
    expect(again).toMatchObject({ fresh: 0, redelivered: 1, events: 0, unique: 0, duplicates: 0 });
    expect(await readCounters(t.db)).toEqual(before);
  });

  it('rolls back everything, message id included, when PostgreSQL refuses an event', async () => {
    const before = await readCounters(t.db);
    const bad = ev('c', '1', { timestamp: '2026-13-45T99:00:00Z' });
    await expect(store([{ id: 'poison', events: [ev('c', '0'), bad] }])).rejects.toMatchObject({ code: '22008' });
    expect(await readCounters(t.db)).toEqual(before);
    const retried = await store([{ id: 'poison', events: [ev('c', '0')] }]);
    expect(retried).toMatchObject({ fresh: 1, unique: 1 });
  });

  it('stores concurrent batches of overlapping keys exactly once, without deadlocks', async () => {
    const keys = Array.from({ length: 400 }, (_, i) => String(i));
    const batches = Array.from({ length: 8 }, (_, b) => ({
      id: `c${b}`,
      // Each batch holds the same keys in its own order.
      events: [...keys].sort(() => (b % 2 === 0 ? 1 : -1)).map((k) => ev('concurrent', k)),
    }));
    const outcomes = await Promise.all(batches.map((m, i) => store([m], i)));
    expect(outcomes.reduce((sum, o) => sum + o.unique, 0)).toBe(400);
    expect(outcomes.reduce((sum, o) => sum + o.duplicates, 0)).toBe(400 * 7);
    const topic = (await readCounters(t.db)).topics.find((x) => x.topic === 'concurrent');
    expect(topic).toEqual({ topic: 'concurrent', unique_processed: 400, duplicate_dropped: 2800 });
  });
});

describe('pruneProcessedMessages', () => {
  it('forgets only the ids older than the cut-off', async () => {
    await store([{ id: 'old-one', events: [ev('prune', '1')] }]);
    await t.db.updateTable('processed_messages').set({ processed_at: new Date('2020-01-01T00:00:00Z') as never }).where('message_id', '=', 'old-one').execute();
    const kept = Number((await t.db.selectFrom('processed_messages').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n) - 1;
    expect(await pruneProcessedMessages(t.db, new Date('2021-01-01T00:00:00Z'))).toBe(1);
    const left = await t.db.selectFrom('processed_messages').select('message_id').execute();
    expect(left).toHaveLength(kept);
    expect(left.map((r) => r.message_id)).not.toContain('old-one');
  });
});

describe('migrations', () => {
  it('run once when several processes start together', async () => {
    const fresh = await createTestDatabase('migrate', { migrate: false });
    try {
      const { createDb } = await import('./database.ts');
      const dbs = Array.from({ length: 4 }, () => createDb(fresh.url, 2));
      const results = await Promise.all(dbs.map((db) => migrateToLatest(db)));
      expect(results.flat()).toEqual([
        '2026-11-25T00-00_initial-schema', '2026-11-25T01-00_parked-flag', '2026-11-30T02-00_event-filter-indexes', '2026-11-30T02-10_counter-totals',
      ]);
      await Promise.all(dbs.map((db) => db.destroy()));
    } finally {
      await fresh.drop();
    }
  });
});
