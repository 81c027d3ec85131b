import type { Kysely } from 'kysely';

// Frozen: a migration never imports application code, so it reads the same forever.
// A message id recorded for a parked message, not for committed events: a
// redelivery of it must be parked again, not taken for committed.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('processed_messages').addColumn('parked', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('processed_messages').dropColumn('parked').execute();
}
