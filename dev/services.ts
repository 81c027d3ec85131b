import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createDb, type Db } from '../shared/db/database.ts';
import { migrateToLatest } from '../shared/db/migrate.ts';

/** The PostgreSQL and Redis that tests, the bench and the chaos run use: the local ones unless told otherwise. */
export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const suffix = () => randomBytes(4).toString('hex');

export type TestDatabase = { url: string; name: string; db: Db; drop: () => Promise<void> };

/**
 * A fresh database of its own for one test file (or one bench or chaos run),
 * migrated, so they run in parallel without seeing each other's rows.
 *
 * @example const t = await createTestDatabase('ingest'); afterAll(t.drop)
 */
export async function createTestDatabase(label: string, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `agg_test_${label.replace(/\W/g, '_')}_${suffix()}`;
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), 4, 'aggregator-test');
  if (options.migrate !== false) await migrateToLatest(db);
  return {
    url: url.toString(),
    name,
    db,
    drop: async () => {
      await db.destroy();
      const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * A Redis client and a key prefix of its own for one test file (or one bench
 * round); `cleanup` deletes every key under the prefix.
 *
 * @example const r = testRedis('ingest'); afterAll(r.cleanup)
 */
export function testRedis(label: string, url = TEST_REDIS_URL) {
  const prefix = `test-${label}-${suffix()}`;
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  return {
    prefix,
    redis,
    cleanup: async () => {
      // Shard 0's keys and, with QUEUE_SHARDS, shard i's (`{prefix:i}:…`).
      const keys = [...await redis.keys(`{${prefix}}:*`), ...await redis.keys(`{${prefix}:*`)];
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
}
