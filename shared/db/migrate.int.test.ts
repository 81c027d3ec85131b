import { sql } from 'kysely';
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
        '2026-11-30T21-30_byte-order-keys',
      ]);
      await Promise.all(dbs.map((db) => db.destroy()));
    } finally {
      await fresh.drop();
    }
  });

  it('leaves every key and filter column comparing bytes (COLLATE "C"), whatever the database collation', async () => {
    const fresh = await createTestDatabase('migrate-collation');
    try {
      const { rows } = await sql<{ column: string; collation: string }>`
        SELECT c.relname || '.' || a.attname AS column, coll.collname AS collation
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_collation coll ON coll.oid = a.attcollation
        WHERE c.relname IN ('events', 'processed_messages', 'topic_counters') AND a.atttypid = 'text'::regtype
        ORDER BY 1`.execute(fresh.db);
      expect(rows).toEqual(['events.event_id', 'events.source', 'events.topic', 'processed_messages.message_id', 'topic_counters.topic']
        .map((column) => ({ column, collation: 'C' })));
    } finally {
      await fresh.drop();
    }
  });
});
