import { sql, type Kysely } from 'kysely';
import type { Database, Db } from './database.ts';

/**
 * Which of these recorded ids were recorded by a parking rather than a commit.
 *
 * @example const parked = await parkedAmong(trx, ['b1'])
 */
export async function parkedAmong(db: Kysely<Database>, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('processed_messages').select('message_id').where('message_id', 'in', ids).where('parked', '=', true).execute();
  return new Set(rows.map((r) => r.message_id));
}

// Any fixed number: the advisory lock that lets one runner at a time prune.
const PRUNE_LOCK = 7_340_011;

/**
 * Forgets the ids of messages recorded longer than `retentionMs` ago, by the
 * database's clock (a process's clock may be off), in chunks of `chunk` rows, each
 * its own short transaction. Only one runner prunes at a time: the others find
 * the lock taken and return 0 at once. An id is needed only while its message can
 * still come back, which is until its claim is acknowledged: leases and outages, not days.
 *
 * @example await pruneProcessedMessages(db, 7 * 86_400_000)
 */
export async function pruneProcessedMessages(db: Db, retentionMs: number, chunk = 5_000): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await db.transaction().execute(async (trx) => {
      const { rows: [lock] } = await sql<{ held: boolean }>`SELECT pg_try_advisory_xact_lock(${PRUNE_LOCK}) AS held`.execute(trx);
      if (!lock?.held) return -1;
      const result = await sql`
        DELETE FROM processed_messages WHERE message_id IN (
          SELECT message_id FROM processed_messages
          WHERE processed_at < now() - make_interval(secs => ${retentionMs / 1000})
          LIMIT ${chunk})`.execute(trx);
      return Number(result.numAffectedRows ?? 0);
    });
    if (deleted < 0) return total;
    total += deleted;
    if (deleted < chunk) return total;
  }
}
