import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../dev/services.ts';
import { waitFor } from '../../dev/wait.ts';
import { createDb } from './database.ts';
import { migrateToLatest } from './migrate.ts';
import * as byteOrderKeys from './migrations/2026-11-30T21-30_byte-order-keys.ts';

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

  it('the byte-order migration waits for a store transaction under way instead of deadlocking with it', async () => {
    const fresh = await createTestDatabase('migrate-locks');
    const store = new pg.Client({ connectionString: fresh.url });
    try {
      await fresh.db.transaction().execute((trx) => byteOrderKeys.down(trx));
      await store.connect();
      const pid = (await store.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      // A store transaction writes its message ids first, then its events (functions/process/store-messages.ts).
      await store.query('BEGIN');
      await store.query("INSERT INTO processed_messages (message_id) VALUES ('m1')");
      const migrating = fresh.db.transaction().execute((trx) => byteOrderKeys.up(trx));
      await waitFor(async () => (await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND ${pid} = ANY(pg_blocking_pids(pid))`.execute(fresh.db)).rows[0]?.n === 1,
      { what: 'the migration waiting on the store transaction', timeoutMs: 10_000 });
      await store.query(`INSERT INTO events (topic, event_id, "timestamp", source, payload) VALUES ('t', 'e1', now(), 's', '{}')`);
      await store.query('COMMIT');
      await migrating;
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE topic = 't' AND event_id = 'e1'`.execute(fresh.db);
      expect(rows).toEqual([{ n: 1 }]);
    } finally {
      await store.end();
      await fresh.drop();
    }
  });
});
