import { sql, type Kysely } from 'kysely';

// Frozen: a migration never imports application code, so it reads the same forever.
//
// The indexes behind the filters of GET /events (topic alone and topic + event_id
// already have theirs). Each equality filter is followed by `seq`, so a page in
// storage order, either way, is a range of one index, stopped at the page's end.
// Time ranges sort by `timestamp`; the planner weighs that index against
// walking `seq` (with or without topic) and filtering, which wins for wide ranges.
// Every index costs insert time, so there is one per filter and one per filter
// with a topic, no more.
//
// IF NOT EXISTS: a migration runs in a transaction, where CREATE INDEX CONCURRENTLY
// cannot; on a large table an operator builds these first, concurrently, under
// the same names, and the migration then only records them.
const INDEXES: Array<[name: string, columns: string]> = [
  ['events_event_id', 'event_id'],
  ['events_source_seq', 'source, seq'],
  ['events_topic_source_seq', 'topic, source, seq'],
  ['events_timestamp', '"timestamp"'],
  ['events_topic_timestamp', 'topic, "timestamp"'],
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, columns] of INDEXES) {
    await sql`CREATE INDEX IF NOT EXISTS ${sql.id(name)} ON events (${sql.raw(columns)})`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [name] of INDEXES) await sql`DROP INDEX IF EXISTS ${sql.id(name)}`.execute(db);
}
