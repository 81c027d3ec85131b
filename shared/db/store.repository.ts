import { sql, type Kysely } from 'kysely';
import type { Event } from '../event/event.schema.ts';
import type { Database } from './database.ts';
import { byKey, type EventKey } from './event.repository.ts';
import { textArrayLiteral } from './text-array.ts';

export type StoreInput = {
  /** The claim's message ids, each once. */
  messageIds: readonly string[];
  /** Of those, the ids to record as parked: their events are not stored. */
  park: ReadonlySet<string>;
  /** The events of those messages in arrival order, each with its message's id. */
  events: ReadonlyArray<{ event: Event; messageId: string }>;
  /** The counter shard the counts go to. */
  shard: number;
};

export type StoreResult = {
  /** The message ids this statement recorded: any other was recorded before (committed, or parked). */
  recorded: Set<string>;
  /** The keys it inserted. */
  inserted: EventKey[];
};

/**
 * The store in one statement, so one round trip and its own transaction (inside a caller's
 * transaction, the lock order below holds only if the caller wrote nothing before): records
 * the message ids; of the messages newly recorded and not parked, inserts the first event of
 * each key in arrival order unless the key is stored; adds the per-topic counts of those
 * events to one counter shard. Each step reads its input whole through an
 * aggregate before the next writes, so the statement takes its locks table by table, ids,
 * then keys, then topics, each in sorted order, as every writer does: concurrent stores
 * never deadlock. Sent as a named prepared statement (database.ts): planned once a connection.
 *
 * @example const { recorded, inserted } = await storeStatement(db, { messageIds, park, events, shard })
 */
export async function storeStatement(db: Kysely<Database>, input: StoreInput): Promise<StoreResult> {
  const ids = [...input.messageIds].sort(); // ids and topics are locked in sorted order; keys are sorted below
  // Sorted by key here too, stably (arrival order within a key): PostgreSQL's sort finds its input in order
  // and only checks it (4% of its CPU a row on claims of 2,000 events otherwise).
  const events = [...input.events].sort((a, b) => byKey(a.event, b.event));
  const result = await sql<{ message: boolean; topic_or_id: string; event_id: string | null }>`/* prepared: store-messages */
    WITH recorded AS (
      INSERT INTO processed_messages (message_id, parked)
      SELECT id, parked FROM unnest(${textArrayLiteral(ids)}::text[], ${ids.map((id) => input.park.has(id))}::boolean[]) AS m(id, parked)
      ON CONFLICT DO NOTHING
      RETURNING message_id, parked
    ), fresh AS (
      SELECT array_agg(message_id) AS ids FROM recorded WHERE NOT parked
    ), candidate AS (
      SELECT e.topic COLLATE "C" AS topic, e.event_id COLLATE "C" AS event_id, e.ts, e.source, e.payload, e.ord
      FROM ROWS FROM (
        unnest(${textArrayLiteral(events.map((e) => e.event.topic))}::text[], ${textArrayLiteral(events.map((e) => e.event.event_id))}::text[],
               ${textArrayLiteral(events.map((e) => e.event.timestamp))}::timestamptz[], ${textArrayLiteral(events.map((e) => e.event.source))}::text[],
               ${textArrayLiteral(events.map((e) => e.messageId))}::text[]),
        jsonb_array_elements(${JSON.stringify(events.map((e) => e.event.payload))}::jsonb)
      ) WITH ORDINALITY AS e(topic, event_id, ts, source, message_id, payload, ord)
      WHERE e.message_id IN (SELECT unnest(ids) FROM fresh)
    ), inserted AS (
      INSERT INTO events (topic, event_id, "timestamp", source, payload)
      SELECT DISTINCT ON (topic, event_id) topic, event_id, ts, source, payload FROM candidate ORDER BY topic, event_id, ord
      ON CONFLICT (topic, event_id) DO NOTHING
      RETURNING topic, event_id
    ), per_topic AS (
      SELECT c.topic, coalesce(i.n, 0) AS u, c.n - coalesce(i.n, 0) AS d
      FROM (SELECT topic, count(*) AS n FROM candidate GROUP BY topic) AS c
      LEFT JOIN (SELECT topic, count(*) AS n FROM inserted GROUP BY topic) AS i USING (topic)
    ), counted AS (
      INSERT INTO topic_counters (topic, shard, unique_count, duplicate_count)
      SELECT topic, ${input.shard}::int, u, d FROM per_topic ORDER BY topic
      ON CONFLICT (topic, shard) DO UPDATE
        SET unique_count = topic_counters.unique_count + excluded.unique_count,
            duplicate_count = topic_counters.duplicate_count + excluded.duplicate_count
    )
    -- Result columns of fixed types: a prepared statement whose result type changes with the
    -- tables' (a migration altering a column's type or collation) fails at every execution.
    SELECT true AS message, message_id::text COLLATE "C" AS topic_or_id, NULL::text COLLATE "C" AS event_id FROM recorded
    UNION ALL
    SELECT false, topic::text COLLATE "C", event_id::text COLLATE "C" FROM inserted`.execute(db);
  const recorded = new Set<string>();
  const inserted: EventKey[] = [];
  for (const row of result.rows) {
    if (row.message) recorded.add(row.topic_or_id);
    else inserted.push({ topic: row.topic_or_id, event_id: row.event_id ?? '' });
  }
  return { recorded, inserted };
}
