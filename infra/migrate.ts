import { loadConfig } from '../shared/config/config.ts';
import { createDb } from '../shared/db/database.ts';
import { migrateToLatest } from '../shared/db/migrate.ts';
import { createLogger } from '../shared/log/logger.ts';

// The Kubernetes migration Job. Functions migrate on start too (the Migrator's
// lock makes that safe), but a broken migration is then a crash loop in every
// pod; as a Job it fails once, visibly, before a rollout goes on.
const config = loadConfig(process.env);
const logger = createLogger('migrate', config.logLevel);
const db = createDb(config.databaseUrl, 1, 'aggregator-migrate');
try {
  const applied = await migrateToLatest(db);
  logger.info({ migrations: applied }, applied.length > 0 ? 'Applied database migrations' : 'Schema is up to date');
} catch (error) {
  logger.error({ err: error }, 'Database migration failed');
  process.exitCode = 1;
} finally {
  await db.destroy();
}
