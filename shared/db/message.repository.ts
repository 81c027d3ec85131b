import { sql, type Transaction } from 'kysely';
import type { Database, Db } from './database.ts';

/**
 * Records queue message ids as processed (or as parked, for a message about to be
 * dead-lettered); the ids that were new. An id already recorded stays as it is:
 * the caller decides what a conflict means.
 *
 * @example const fresh = await recordMessageIds(trx, ['b1', 'b2'], new Set(['b2']))
 */
export async function recordMessageIds(trx: Transaction<Database>, ids: string[], parked: ReadonlySet<string>): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const sorted = [...new Set(ids)].sort(); // one lock order for every worker
  const result = await sql<{ message_id: string }>`
    INSERT INTO processed_messages (message_id, parked)
    SELECT id, parked FROM unnest(${sorted}::text[], ${sorted.map((id) => parked.has(id))}::boolean[]) AS t(id, parked)
    ON CONFLICT DO NOTHING
    RETURNING message_id`.execute(trx);
  return new Set(result.rows.map((r) => r.message_id));
}

/**
 * Which of these recorded ids were recorded by a parking rather than a commit.
 *
 * @example const parked = await parkedAmong(trx, ['b1'])
 */
export async function parkedAmong(trx: Transaction<Database>, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await trx.selectFrom('processed_messages').select('message_id').where('message_id', 'in', ids).where('parked', '=', true).execute();
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
