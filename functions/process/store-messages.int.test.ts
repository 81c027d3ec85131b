import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCounters } from '../../shared/db/counter.repository.ts';
import { createDb } from '../../shared/db/database.ts';
import { listEvents } from '../../shared/db/event-read.repository.ts';
import { countEvents } from '../../shared/db/event.repository.ts';
import type { Event } from '../../shared/event/event.schema.ts';
import type { QueueMessage } from '../../shared/queue/message.ts';
import { event } from '../../dev/harness.ts';
import { createTestDatabase, type TestDatabase } from '../../dev/services.ts';
import { storeMessages } from './store-messages.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase('store_messages');
});
afterAll(() => t.drop());

const ev = (topic: string, id: string, extra: Partial<Event> = {}) => event({ topic, event_id: id, ...extra }) as Event;
const store = (messages: QueueMessage[], shard = 0, park = new Set<string>()) => storeMessages(t.db, messages, shard, park);

describe('storeMessages', () => {
  it('stores each key once, counting duplicates inside the batch and against earlier batches', async () => {
    const first = await store([{ id: 'r1', events: [ev('a', '1'), ev('a', '2'), ev('a', '1'), ev('b', '1')] }]);
    expect(first).toMatchObject({ redelivered: 0, parked: [], events: 4, unique: 3, duplicates: 1 });
    const second = await store([{ id: 'r2', events: [ev('a', '2'), ev('b', '2')] }], 5);
    expect(second).toMatchObject({ events: 2, unique: 1, duplicates: 1 });
    const counters = await readCounters(t.db);
    expect(counters).toMatchObject({ uniqueProcessed: 4, duplicateDropped: 2 });
    expect(counters.topics).toEqual([
      { topic: 'a', unique_processed: 2, duplicate_dropped: 2 },
      { topic: 'b', unique_processed: 2, duplicate_dropped: 0 },
    ]);
    expect(await countEvents(t.db)).toBe(4);
  });

  it('tells each event of each committed message its outcome, in the message\'s order', async () => {
    await store([{ id: 'earlier', events: [ev('o', 'old')] }]);
    const outcome = await store([
      { id: 'm1', events: [ev('o', 'x'), ev('o', 'old'), ev('o', 'x'), ev('o', 'y')] },
      { id: 'm2', events: [ev('o', 'y'), ev('o', 'z')] },
      { id: 'm1', events: [ev('o', 'x'), ev('o', 'old'), ev('o', 'x'), ev('o', 'y')] }, // the same message twice in a claim
    ]);
    expect(outcome.committed).toEqual([
      { batchId: 'm1', results: ['stored', 'duplicate', 'duplicate', 'stored'] },
      { batchId: 'm2', results: ['duplicate', 'stored'] },
    ]);
    expect(outcome).toMatchObject({ events: 6, unique: 3, duplicates: 3, redelivered: 0 });
    // Delivered again after its commit: no fresh outcome, no count.
    expect(await store([{ id: 'm2', events: [ev('o', 'y'), ev('o', 'z')] }])).toMatchObject({ committed: [], redelivered: 1, events: 0 });
  });

  it('tells each request of a message holding several its own outcome, and records the message once', async () => {
    const joined: QueueMessage = {
      id: 'j1',
      events: [ev('j', '1'), ev('j', '2'), ev('j', '1'), ev('j', '3')],
      batches: [{ id: 'j1', events: 2 }, { id: 'j2', events: 1 }, { id: 'j3', events: 1 }],
    };
    const outcome = await store([joined], 2);
    expect(outcome.committed).toEqual([
      { batchId: 'j1', results: ['stored', 'stored'] },
      { batchId: 'j2', results: ['duplicate'] },
      { batchId: 'j3', results: ['stored'] },
    ]);
    expect(outcome).toMatchObject({ events: 4, unique: 3, duplicates: 1, redelivered: 0 });
    const recorded = await t.db.selectFrom('processed_messages').select('message_id').where('message_id', 'like', 'j%').execute();
    expect(recorded.map((r) => r.message_id)).toEqual(['j1']);
    // Delivered again: the whole message is known, whichever of its requests is looked at.
    expect(await store([joined])).toMatchObject({ committed: [], redelivered: 1, events: 0 });
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
    expect(again).toMatchObject({ committed: [], redelivered: 1, events: 0, unique: 0, duplicates: 0 });
    expect(await readCounters(t.db)).toEqual(before);
  });

  it('parks again any message recorded as parked, whether or not it is over its attempts now', async () => {
    const parked = { id: 'was-parked', events: [ev('pk', '1')] };
    expect((await store([parked], 0, new Set(['was-parked']))).parked).toEqual([parked]);
    // MAX_ATTEMPTS raised, or the attempts entry lost: the redelivery is not in `park`, and still not taken for committed.
    const again = await store([parked]);
    expect(again).toMatchObject({ parked: [parked], committed: [], redelivered: 0, events: 0 });
    expect(await listEvents(t.db, { topic: 'pk', order: 'asc', afterSeq: null, limit: 10 })).toMatchObject({ events: [] });
  });

  it('rolls back everything, message id included, when PostgreSQL refuses an event', async () => {
    const before = await readCounters(t.db);
    const bad = ev('c', '1', { timestamp: '2026-13-45T99:00:00Z' });
    await expect(store([{ id: 'poison', events: [ev('c', '0'), bad] }])).rejects.toMatchObject({ code: '22008' });
    expect(await readCounters(t.db)).toEqual(before);
    const retried = await store([{ id: 'poison', events: [ev('c', '0')] }]);
    expect(retried).toMatchObject({ committed: [{ batchId: 'poison', results: ['stored'] }], unique: 1 });
  });

  it('stores concurrent batches of overlapping keys exactly once', async () => {
    const keys = Array.from({ length: 400 }, (_, i) => String(i));
    const batches = Array.from({ length: 8 }, (_, b) => ({
      id: `c${b}`,
      events: (b % 2 === 0 ? keys : [...keys].reverse()).map((k) => ev('concurrent', k)),
    }));
    const outcomes = await Promise.all(batches.map((m, i) => store([m], i)));
    expect(outcomes.reduce((sum, o) => sum + o.unique, 0)).toBe(400);
    expect(outcomes.reduce((sum, o) => sum + o.duplicates, 0)).toBe(400 * 7);
    const topic = (await readCounters(t.db)).topics.find((x) => x.topic === 'concurrent');
    expect(topic).toEqual({ topic: 'concurrent', unique_processed: 400, duplicate_dropped: 2800 });
  });
});

describe('lock order', () => {
  it('never deadlocks: two open transactions with overlapping keys in opposite orders meet at a barrier', async () => {
    const d = await createTestDatabase('store_barrier');
    try {
      // Each transaction stops before its second row until both have inserted their first. In key
      // order both start with the same key, so the second waits on the first and never reaches the
      // barrier (which gives up after 3 s); in arrival order each holds a key the other needs next.
      await sql`CREATE SEQUENCE barrier_seq`.execute(d.db);
      await sql.raw(`
        CREATE FUNCTION barrier() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE n int := coalesce(nullif(current_setting('barrier.rows', true), ''), '0')::int + 1;
        BEGIN
          PERFORM set_config('barrier.rows', n::text, true);
          IF n = 2 THEN
            PERFORM nextval('barrier_seq');
            FOR i IN 1..300 LOOP
              EXIT WHEN (SELECT last_value FROM barrier_seq) >= 2;
              PERFORM pg_sleep(0.01);
            END LOOP;
          END IF;
          RETURN NEW;
        END $$`).execute(d.db);
      await sql`CREATE TRIGGER barrier BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION barrier()`.execute(d.db);
      const keys = ['k1', 'k2', 'k3'];
      const outcomes = await Promise.all([
        storeMessages(d.db, [{ id: 'up', events: keys.map((k) => ev('lock', k)) }], 0, new Set()),
        storeMessages(d.db, [{ id: 'down', events: [...keys].reverse().map((k) => ev('lock', k)) }], 1, new Set()),
      ]);
      expect(outcomes.reduce((sum, o) => sum + o.unique, 0)).toBe(3);
      expect(outcomes.reduce((sum, o) => sum + o.duplicates, 0)).toBe(3);
    } finally {
      await d.drop();
    }
  });
});

describe('the statement', () => {
  it('is a named prepared statement, planned once a connection, and the same for every claim', async () => {
    const one = createDb(t.url, 1, 'prepared-test'); // one connection: the statements below share it
    try {
      await storeMessages(one, [{ id: 'p1', events: [ev('prep', '1')] }], 0, new Set());
      await storeMessages(one, [{ id: 'p2', events: [ev('prep', '2'), ev('prep', '3')] }, { id: 'p3', events: [ev('prep', '1')] }], 0, new Set());
      const { rows } = await sql<{ name: string }>`SELECT name FROM pg_prepared_statements`.execute(one);
      expect(rows.map((r) => r.name)).toEqual(['store-messages']);
    } finally {
      await one.destroy();
    }
  });

  it('is prepared again when the server lost it (DEALLOCATE, or a pooler\'s DISCARD ALL)', async () => {
    const one = createDb(t.url, 1, 'prepared-test');
    try {
      await storeMessages(one, [{ id: 'lost-1', events: [ev('lost', '1')] }], 0, new Set());
      await sql`DEALLOCATE ALL`.execute(one);
      expect(await storeMessages(one, [{ id: 'lost-2', events: [ev('lost', '2')] }], 0, new Set())).toMatchObject({ unique: 1 });
      const { rows } = await sql<{ name: string }>`SELECT name FROM pg_prepared_statements`.execute(one);
      expect(rows.map((r) => r.name)).toEqual(['store-messages-1']);
    } finally {
      await one.destroy();
    }
  });
});

describe('commit', () => {
  it('is not cut short by the statement timeout (a cancelled wait for a standby would report success)', async () => {
    // A deferred constraint trigger runs inside COMMIT: here it stands in for a slow synchronous standby.
    // PostgreSQL stops the statement timer before it commits; this pins that the store path relies on it.
    const impatient = createDb(t.url, 1, 'commit-test', 300);
    try {
      await sql.raw(`
        CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.6); RETURN NULL; END $$;
        CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON processed_messages DEFERRABLE INITIALLY DEFERRED
          FOR EACH ROW WHEN (NEW.message_id = 'slow-commit') EXECUTE FUNCTION slow_commit()`).execute(t.db);
      const outcome = await storeMessages(impatient, [{ id: 'slow-commit', events: [ev('commit', '1')] }], 0, new Set());
      expect(outcome.unique).toBe(1);
      // Statements before the COMMIT keep their timeout.
      await expect(impatient.transaction().execute((trx) => storeMessages(trx, [{ id: 'slow-commit-2', events: [] }], 0, new Set())
        .then(() => sql`SELECT pg_sleep(0.6)`.execute(trx)))).rejects.toMatchObject({ code: '57014' });
    } finally {
      await impatient.destroy();
    }
  });
});
