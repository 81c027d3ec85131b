import { sql, type Transaction } from 'kysely';
import type { Event } from '../event/event.schema.ts';
import type { QueueMessage } from '../queue/message.ts';
import type { MessageOutcome } from '../queue/outcomes.ts';
import type { Database, Db } from './database.ts';

export type TopicCounts = { unique: number; duplicates: number };

export type StoreOutcome = {
  /** Messages whose events this call stored or dropped. */
  fresh: number;
  /** Messages already committed by an earlier delivery: nothing of them is counted again. */
  redelivered: number;
  /** Messages of `park` whose id this call recorded: to be dead-lettered, never stored. */
  parked: QueueMessage[];
  events: number;
  unique: number;
  duplicates: number;
  perTopic: Map<string, TopicCounts>;
  /** The keys dropped as duplicates, worked out only when asked (debug logs). */
  droppedKeys: () => Array<{ topic: string; event_id: string }>;
  /** What became of each event of each fresh message, in order, worked out only when asked (`?wait=true`). */
  results: () => MessageOutcome[];
};

const byKey = (a: Event, b: Event) =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0;

/**
 * Stores the events of a batch of messages inside the caller's transaction:
 * records the message ids (a message seen before is skipped whole), inserts
 * each key once with ON CONFLICT DO NOTHING, and adds the per-topic counts to
 * this worker's counter shard. Rows and counters are written in key order, so
 * concurrent workers lock in the same order and never deadlock.
 *
 * The ids in `park` are recorded without storing their events, for messages
 * about to be dead-lettered: recording the id is what makes "parked" and
 * "committed by a late worker" exclude each other, whichever comes first.
 *
 * @example await db.transaction().execute((trx) => storeMessages(trx, messages, 3))
 */
export async function storeMessages(
  trx: Transaction<Database>, messages: QueueMessage[], shard: number, park: ReadonlySet<string> = new Set(),
): Promise<StoreOutcome> {
  const ids = [...new Set(messages.map((m) => m.id))].sort();
  const claimedIds = await sql<{ message_id: string }>`
    INSERT INTO processed_messages (message_id, parked)
    SELECT id, parked FROM unnest(${ids}::text[], ${ids.map((id) => park.has(id))}::boolean[]) AS t(id, parked)
    ON CONFLICT DO NOTHING
    RETURNING message_id`.execute(trx);
  const recorded = new Set(claimedIds.rows.map((r) => r.message_id));
  const claimed = messages.filter((m) => recorded.delete(m.id)); // an id twice in one batch counts once
  const fresh = claimed.filter((m) => !park.has(m.id));
  const toPark = messages.filter((m) => park.has(m.id));
  const parkedBefore = await parkedEarlier(trx, toPark.filter((m) => !claimed.includes(m)).map((m) => m.id));
  const parked = toPark.filter((m) => claimed.includes(m) || parkedBefore.has(m.id));

  // The first event of a key in arrival order is the one stored.
  const firstOfKey = new Map<string, Event>();
  const perTopic = new Map<string, TopicCounts>();
  let events = 0;
  for (const message of fresh) {
    for (const event of message.events) {
      events++;
      const key = `${event.topic}\u0000${event.event_id}`;
      if (!firstOfKey.has(key)) firstOfKey.set(key, event);
      const counts = perTopic.get(event.topic) ?? { unique: 0, duplicates: 0 };
      counts.duplicates++; // every event starts as a duplicate; inserted rows move over below
      perTopic.set(event.topic, counts);
    }
  }
  const rows = [...firstOfKey.values()].sort(byKey);

  let inserted: Array<{ topic: string; event_id: string }> = [];
  if (rows.length > 0) {
    // Column arrays that PostgreSQL unnests: measured at about half the server CPU a row of
    // json_to_recordset over one JSON document (bench/ceilings).
    const result = await sql<{ topic: string; event_id: string }>`
      INSERT INTO events (topic, event_id, "timestamp", source, payload)
      SELECT * FROM unnest(
        ${rows.map((e) => e.topic)}::text[], ${rows.map((e) => e.event_id)}::text[],
        ${rows.map((e) => e.timestamp)}::timestamptz[], ${rows.map((e) => e.source)}::text[],
        ${rows.map((e) => JSON.stringify(e.payload))}::jsonb[])
      ON CONFLICT (topic, event_id) DO NOTHING
      RETURNING topic, event_id`.execute(trx);
    inserted = result.rows;
  }
  for (const row of inserted) {
    const counts = perTopic.get(row.topic) as TopicCounts;
    counts.unique++;
    counts.duplicates--;
  }
  await addToCounters(trx, perTopic, shard);

  const unique = inserted.length;
  return {
    fresh: fresh.length,
    redelivered: messages.length - fresh.length - parked.length,
    parked,
    events,
    unique,
    duplicates: events - unique,
    perTopic,
    droppedKeys: () => droppedKeysOf(fresh, inserted),
    results: () => resultsOf(fresh, inserted),
  };
}

/**
 * Which of these ids, already recorded, were recorded by a parking: such a
 * message comes back when its dead letter never reached Redis (the
 * acknowledgement was lost), and is parked again rather than taken for committed.
 */
async function parkedEarlier(trx: Transaction<Database>, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await trx.selectFrom('processed_messages').select('message_id').where('message_id', 'in', ids).where('parked', '=', true).execute();
  return new Set(rows.map((r) => r.message_id));
}

/** Calls `visit` for each event of the fresh messages, in arrival order, saying whether it is the one stored. */
function eachEvent(fresh: QueueMessage[], inserted: Array<{ topic: string; event_id: string }>, visit: (event: Event, stored: boolean, message: QueueMessage) => void) {
  const stored = new Set(inserted.map((r) => `${r.topic}\u0000${r.event_id}`));
  for (const message of fresh) {
    // The first occurrence of a stored key is the unique one; later ones are dropped.
    for (const event of message.events) visit(event, stored.delete(`${event.topic}\u0000${event.event_id}`), message);
  }
}

function droppedKeysOf(fresh: QueueMessage[], inserted: Array<{ topic: string; event_id: string }>) {
  const dropped: Array<{ topic: string; event_id: string }> = [];
  eachEvent(fresh, inserted, ({ topic, event_id }, stored) => {
    if (!stored) dropped.push({ topic, event_id });
  });
  return dropped;
}

function resultsOf(fresh: QueueMessage[], inserted: Array<{ topic: string; event_id: string }>): MessageOutcome[] {
  const byMessage = new Map(fresh.map((m) => [m, { batchId: m.id, results: [] as MessageOutcome['results'] }]));
  eachEvent(fresh, inserted, (_event, stored, message) => byMessage.get(message)?.results.push(stored ? 'stored' : 'duplicate'));
  return [...byMessage.values()];
}

async function addToCounters(trx: Transaction<Database>, perTopic: Map<string, TopicCounts>, shard: number): Promise<void> {
  if (perTopic.size === 0) return;
  const topics = [...perTopic.keys()].sort();
  await sql`
    INSERT INTO topic_counters (topic, shard, unique_count, duplicate_count)
    SELECT t.topic, ${shard}::int, t.u, t.d
    FROM unnest(${topics}::text[], ${topics.map((t) => perTopic.get(t)?.unique ?? 0)}::bigint[],
                ${topics.map((t) => perTopic.get(t)?.duplicates ?? 0)}::bigint[]) AS t(topic, u, d)
    ON CONFLICT (topic, shard) DO UPDATE
      SET unique_count = topic_counters.unique_count + excluded.unique_count,
          duplicate_count = topic_counters.duplicate_count + excluded.duplicate_count`.execute(trx);
}

/**
 * Forgets the ids of messages committed before `olderThan`. An id is needed only
 * while its message can still come back, which is until its batch is
 * acknowledged: lease lengths and outages, not days.
 *
 * @example await pruneProcessedMessages(db, new Date(Date.now() - 7 * 86_400_000))
 */
export async function pruneProcessedMessages(db: Db, olderThan: Date): Promise<number> {
  const result = await db.deleteFrom('processed_messages').where('processed_at', '<', olderThan).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** How many unique events are stored: the invariant's check on `unique_processed`. */
export async function countEvents(db: Db): Promise<number> {
  const row = await db.selectFrom('events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
