import { sql, type Transaction } from 'kysely';
import type { Event } from '../event/event.schema.ts';
import type { Database, Db } from './database.ts';

export type EventKey = { topic: string; event_id: string };

const byKey = (a: EventKey, b: EventKey) =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0;

/**
 * Inserts events whose keys are not stored yet, inside the caller's transaction;
 * the keys it inserted. Rows are written in key order, so concurrent writers lock
 * in one order and never deadlock. Each key must appear once in `events`.
 *
 * @example const inserted = await insertNewEvents(trx, events)
 */
export async function insertNewEvents(trx: Transaction<Database>, events: Event[]): Promise<EventKey[]> {
  if (events.length === 0) return [];
  const rows = [...events].sort(byKey);
  // Column arrays that PostgreSQL unnests: measured at about half the server CPU a row of
  // json_to_recordset over one JSON document; the payloads travel as one JSON array, zipped
  // in by position (ROWS FROM), which spares Node escaping each into an array literal and
  // PostgreSQL parsing that literal (docs/design/insert-statement.md).
  const result = await sql<EventKey>`
    INSERT INTO events (topic, event_id, "timestamp", source, payload)
    SELECT * FROM ROWS FROM (
      unnest(${rows.map((e) => e.topic)}::text[], ${rows.map((e) => e.event_id)}::text[],
             ${rows.map((e) => e.timestamp)}::timestamptz[], ${rows.map((e) => e.source)}::text[]),
      jsonb_array_elements(${JSON.stringify(rows.map((e) => e.payload))}::jsonb))
    ON CONFLICT (topic, event_id) DO NOTHING
    RETURNING topic, event_id`.execute(trx);
  return result.rows;
}

/** How many unique events are stored: the invariant's check on `unique_processed`. */
export async function countEvents(db: Db): Promise<number> {
  const row = await db.selectFrom('events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
