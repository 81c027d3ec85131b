import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Readiness } from '../http/ops-routes.ts';
import type { RedisClient } from '../queue/redis.ts';

const within = <T>(ms: number, work: Promise<T>): Promise<T> =>
  Promise.race([work, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);

const answers = async (probe: () => Promise<unknown>): Promise<boolean> => {
  try {
    await within(1_000, probe());
    return true;
  } catch {
    return false;
  }
};

/**
 * A readiness check of the dependencies a function uses: ingest needs only Redis
 * (it keeps accepting while PostgreSQL is down), process and stats need both.
 *
 * @example readinessOf({ redis, db })
 */
export function readinessOf(deps: { redis?: RedisClient; db?: Db }): Readiness {
  return async () => {
    const checks: Array<Promise<[string, boolean]>> = [];
    const { redis, db } = deps;
    if (redis) checks.push(answers(() => redis.ping()).then((up) => ['redis', up]));
    if (db) checks.push(answers(() => sql`select 1`.execute(db)).then((up) => ['postgres', up]));
    return Object.fromEntries(await Promise.all(checks));
  };
}
