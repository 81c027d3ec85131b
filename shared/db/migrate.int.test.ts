import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../dev/services.ts';
import { createDb } from './database.ts';
import { migrateToLatest } from './migrate.ts';

describe('migrations', () => {
  it('run once when several processes start together', async () => {
    const fresh = await createTestDatabase('migrate', { migrate: false });
    try {
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
