import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/services.ts';
import { event } from '../../test/support/harness.ts';
import type { Event } from '../event/event.schema.ts';
import { insertNewEvents, listEvents } from './event.repository.ts';
import { migrateToLatest } from './migrate.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase('repository');
});
afterAll(() => t.drop());

const ev = (topic: string, id: string, extra: Partial<Event> = {}) => event({ topic, event_id: id, ...extra }) as Event;
const store = (messages: Array<{ id: string; events: Event[] }>) => t.db.transaction().execute((trx) => insertNewEvents(trx, messages.flatMap((m) => m.events)));

describe('listEvents', () => {
  it('pages by cursor, oldest stored first, and filters by topic', async () => {
    await store([{ id: 'p', events: Array.from({ length: 25 }, (_, i) => ev('paged', `k${String(i).padStart(2, '0')}`)) }]);
    const seen: string[] = [];
    let after = '0';
    for (;;) {
      const page = await listEvents(t.db, { topic: 'paged', afterSeq: after, limit: 10 });
      seen.push(...page.events.map((e) => e.event_id));
      expect(page.events.every((e) => e.topic === 'paged')).toBe(true);
      if (page.nextSeq === null) break;
      after = page.nextSeq;
    }
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
  });

  it('returns the event as received, the timestamp as the same instant in UTC', async () => {
    const payload = { nested: { list: [1, 'two', null, true] }, 'ключ': 'значение 🚀', __proto__: 'plain key' };
    await store([{ id: 'shape', events: [ev('shape', 'x', { timestamp: '2026-11-25T09:30:00.123456+02:00', source: 'svc', payload: JSON.parse(JSON.stringify(payload)) })] }]);
    const [stored] = (await listEvents(t.db, { topic: 'shape', afterSeq: '0', limit: 1 })).events;
    expect(stored).toMatchObject({ topic: 'shape', event_id: 'x', source: 'svc', timestamp: '2026-11-25T07:30:00.123456Z' });
    expect(stored!.payload).toEqual(JSON.parse(JSON.stringify(payload)));
    expect(stored!.stored_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });
});

describe('migrations', () => {
  it('run once when several processes start together', async () => {
    const fresh = await createTestDatabase('migrate', { migrate: false });
    try {
      const { createDb } = await import('./database.ts');
      const dbs = Array.from({ length: 4 }, () => createDb(fresh.url, 2));
      const results = await Promise.all(dbs.map((db) => migrateToLatest(db)));
      expect(results.flat()).toEqual(['2026-11-25T00-00_initial-schema', '2026-11-25T01-00_parked-flag']);
      await Promise.all(dbs.map((db) => db.destroy()));
    } finally {
      await fresh.drop();
    }
  });
});
