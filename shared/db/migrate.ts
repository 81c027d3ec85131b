import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database.ts';
import * as initialSchema from './migrations/2026-11-25T00-00_initial-schema.ts';
import * as parkedFlag from './migrations/2026-11-25T01-00_parked-flag.ts';
import * as eventFilterIndexes from './migrations/2026-11-30T02-00_event-filter-indexes.ts';
import * as counterTotals from './migrations/2026-11-30T02-10_counter-totals.ts';
import * as byteOrderKeys from './migrations/2026-11-30T21-30_byte-order-keys.ts';

// Listed by hand rather than read from the folder, so the same list works from
// TypeScript sources and from the compiled image.
const MIGRATIONS: Record<string, Migration> = {
  '2026-11-25T00-00_initial-schema': initialSchema,
  '2026-11-25T01-00_parked-flag': parkedFlag,
  '2026-11-30T02-00_event-filter-indexes': eventFilterIndexes,
  '2026-11-30T02-10_counter-totals': counterTotals,
  '2026-11-30T21-30_byte-order-keys': byteOrderKeys,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/**
 * Brings the schema to the latest migration. Kysely's Migrator holds a
 * PostgreSQL advisory lock while it runs, so processes that start together
 * migrate once; a failed migration throws.
 *
 * @example await migrateToLatest(db)
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) throw new Error('database migration failed', { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
