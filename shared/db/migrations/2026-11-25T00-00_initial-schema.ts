import { sql, type Kysely } from 'kysely';

// Frozen: a migration never imports application code, so it reads the same forever.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('events')
    .addColumn('seq', 'bigint', (c) => c.generatedAlwaysAsIdentity().primaryKey())
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('timestamp', 'timestamptz', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('stored_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('events_key', ['topic', 'event_id'])
    .execute();
  await db.schema.createIndex('events_topic_seq').on('events').columns(['topic', 'seq']).execute();

  await db.schema
    .createTable('processed_messages')
    .addColumn('message_id', 'text', (c) => c.primaryKey())
    .addColumn('processed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('processed_messages_processed_at').on('processed_messages').column('processed_at').execute();

  await db.schema
    .createTable('topic_counters')
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('shard', 'integer', (c) => c.notNull())
    .addColumn('unique_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('duplicate_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('topic_counters_pk', ['topic', 'shard'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('topic_counters').execute();
  await db.schema.dropTable('processed_messages').execute();
  await db.schema.dropTable('events').execute();
}
