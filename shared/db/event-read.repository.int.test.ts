import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event } from '../../dev/harness.ts';
import { createTestDatabase, type TestDatabase } from '../../dev/services.ts';
import type { Event } from '../event/event.schema.ts';
import type { QueueMessage } from '../queue/message.ts';
import { eventPageQuery, listEvents, type EventQuery } from './event-read.repository.ts';
import { storeMessages } from '../../functions/process/store-messages.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase('event-read');
});
afterAll(() => t.drop());

const ev = (topic: string, id: string, extra: Partial<Event> = {}) => event({ topic, event_id: id, ...extra }) as Event;
const store = (messages: QueueMessage[]) => t.db.transaction().execute((trx) => storeMessages(trx, messages, 0, new Set()));

/** Every event a query finds, page after page; each page's cursor feeds the next. */
async function readAll(query: Omit<EventQuery, 'afterSeq' | 'limit'>, limit = 3) {
  const seen: Event[] = [];
  let afterSeq: string | null = null;
  do {
    const page = await listEvents(t.db, { ...query, afterSeq, limit });
    seen.push(...page.events);
    afterSeq = page.nextSeq;
  } while (afterSeq !== null);
  return seen;
}
const ids = (events: Event[]) => events.map((e) => e.event_id);

describe('listEvents', () => {
  it('pages by cursor, oldest stored first, and filters by topic', async () => {
    await store([{ id: 'p', events: Array.from({ length: 25 }, (_, i) => ev('paged', `k${String(i).padStart(2, '0')}`)) }]);
    const seen = await readAll({ topic: 'paged', order: 'asc' }, 10);
    expect(seen.every((e) => e.topic === 'paged')).toBe(true);
    expect(ids(seen)).toEqual(Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(2, '0')}`));
  });

  it('pages newest stored first with order desc, the same events in reverse', async () => {
    const asc = await readAll({ topic: 'paged', order: 'asc' }, 10);
    const desc = await readAll({ topic: 'paged', order: 'desc' }, 7);
    expect(ids(desc)).toEqual(ids(asc).reverse());
  });

  it('returns the event as received, the timestamp as the same instant in UTC', async () => {
    const payload = { nested: { list: [1, 'two', null, true] }, 'ключ': 'значение 🚀', __proto__: 'plain key' };
    await store([{ id: 'shape', events: [ev('shape', 'x', { timestamp: '2026-11-25T09:30:00.123456+02:00', source: 'svc', payload: JSON.parse(JSON.stringify(payload)) })] }]);
    const [stored] = (await listEvents(t.db, { topic: 'shape', order: 'asc', afterSeq: null, limit: 1 })).events;
    expect(stored).toMatchObject({ topic: 'shape', event_id: 'x', source: 'svc', timestamp: '2026-11-25T07:30:00.123456Z' });
    expect(stored!.payload).toEqual(JSON.parse(JSON.stringify(payload)));
    expect(stored!.stored_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });
});

describe('listEvents filters', () => {
  // One event an hour on 2031-11-01 (after every other event of this file), 0h to 11h, over two topics and two
  // sources, stored one at a time so that storage order is hour order; `same` exists in both topics.
  beforeAll(async () => {
    for (let h = 0; h < 12; h++) {
      const at = `2031-11-01T${String(h).padStart(2, '0')}:00:00Z`;
      await store([{ id: `filters-${h}`, events: [ev(h % 2 === 0 ? 'f.even' : 'f.odd', `h${h}`, { source: h < 6 ? 'early-svc' : 'late-svc', timestamp: at })] }]);
    }
    await store([{ id: 'filters-same', events: [ev('f.even', 'same', { source: 'x' }), ev('f.odd', 'same', { source: 'x' })] }]);
  });
  const both = async (filter: Omit<EventQuery, 'afterSeq' | 'limit' | 'order'>) => {
    const asc = await readAll({ ...filter, order: 'asc' });
    expect(ids(await readAll({ ...filter, order: 'desc' }))).toEqual(ids(asc).reverse());
    return asc;
  };

  it('finds an event_id exactly, in every topic or in one', async () => {
    expect((await both({ eventId: 'same' })).map((e) => e.topic)).toEqual(['f.even', 'f.odd']);
    expect((await both({ eventId: 'same', topic: 'f.odd' })).map((e) => e.topic)).toEqual(['f.odd']);
    expect(await both({ eventId: 'sam' })).toEqual([]);
  });

  it('matches source exactly, with or without a topic', async () => {
    expect(ids(await both({ source: 'early-svc' }))).toEqual(['h0', 'h1', 'h2', 'h3', 'h4', 'h5']);
    expect(ids(await both({ source: 'late-svc', topic: 'f.even' }))).toEqual(['h6', 'h8', 'h10']);
    expect(await both({ source: 'early' })).toEqual([]);
  });

  it('takes since inclusive and until exclusive, on the event timestamp, offsets allowed', async () => {
    // 05:00+02:00 is 03:00Z; 09:00+02:00 is 07:00Z. The other events of this file are of 2026.
    expect(ids(await both({ since: '2031-11-01T05:00:00+02:00', until: '2031-11-01T09:00:00+02:00', topic: 'f.odd' }))).toEqual(['h3', 'h5']);
    expect(ids(await both({ since: '2031-11-01T10:00:00Z' }))).toEqual(['h10', 'h11']);
    expect(ids(await both({ until: '2031-11-01T01:00:00Z', source: 'early-svc' }))).toEqual(['h0']);
    expect(ids(await both({ since: '2031-11-01T03:00:00.000001Z', until: '2031-11-01T05:00:00Z', source: 'early-svc' }))).toEqual(['h4']);
  });
});

describe('the plans of GET /events, on a table the planner sees as large', () => {
  const ROWS = 100_000;
  // Skewed as real traffic is: three hot topics and a rare one, five common sources and a rare one (which
  // publishes only to hot.1), a minute apart over ~70 days. Loaded with generate_series and ANALYZEd: the
  // planner's choices are its own (no enable_* setting). A common value is best found by walking `seq` and
  // filtering (the primary key); the indexes of the migration are for the values that are not.
  beforeAll(async () => {
    await sql`INSERT INTO events (topic, event_id, "timestamp", source, payload)
      SELECT CASE WHEN i % 200 = 0 THEN 'load.rare' ELSE 'load.hot.' || (i % 3) END, 'load-' || i,
             timestamptz '2026-01-01T00:00:00Z' + i * interval '1 minute',
             CASE WHEN i % 300 = 1 THEN 'rare-svc' ELSE 'svc-' || (i % 5) END, '{}'
      FROM generate_series(1, ${ROWS}::int) AS i`.execute(t.db);
    await sql`ANALYZE events`.execute(t.db);
  }, 60_000);

  const day = { since: '2026-02-01T00:00:00Z', until: '2026-02-02T00:00:00+00:00' };
  const CASES: Array<[string, Omit<EventQuery, 'order' | 'afterSeq' | 'limit'>, RegExp]> = [
    ['a rare topic', { topic: 'load.rare' }, /events_topic_seq/],
    ['a common topic', { topic: 'load.hot.1' }, /events_pkey|events_topic_seq/],
    ['event_id', { eventId: 'load-4242' }, /events_event_id|events_key/],
    ['topic + event_id', { topic: 'load.hot.2', eventId: 'load-4242' }, /events_event_id|events_key/],
    ['a rare source', { source: 'rare-svc' }, /events_source_seq/],
    ['a common topic + a rare source', { topic: 'load.hot.0', source: 'rare-svc' }, /events_topic_source_seq/],
    ['since + until (a day)', day, /events_timestamp/],
    ['a rare topic + since + until', { topic: 'load.rare', ...day }, /events_topic_timestamp/],
    ['since alone (wide)', { since: '2026-01-02T00:00:00Z' }, /events_pkey|events_timestamp/],
    ['a rare source + since', { source: 'rare-svc', ...day }, /events_source_seq|events_timestamp/],
  ];

  it.each(CASES.flatMap(([name, filter, index]) => (['asc', 'desc'] as const).map((order) => [`${name}, ${order}`, filter, index, order] as const)))(
    '%s: an index scan, no sequential scan of events',
    async (_name, filter, index, order) => {
      for (const afterSeq of [null, String(ROWS / 2)]) {
        const plan = (await eventPageQuery(t.db, { ...filter, order, afterSeq, limit: 100 }).explain()).map((row) => String(row['QUERY PLAN'])).join('\n');
        expect(plan).not.toMatch(/Seq Scan/);
        expect(plan).toMatch(index);
      }
    },
  );
});
