import { Redis } from 'ioredis';
import pg from 'pg';
import { ADMIN_DATABASE_URL, TEST_REDIS_URL } from '../../dev/services.ts';

// Fail the run once, clearly, when a service is missing, instead of in every file.
export default async function checkServices(): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${ADMIN_DATABASE_URL}: ${String(error)} (see README, "Tests")`);
  } finally {
    await client.end().catch(() => undefined);
  }
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`Redis is not reachable at ${TEST_REDIS_URL}: ${String(error)} (see README, "Tests")`);
  } finally {
    redis.disconnect();
  }
}
