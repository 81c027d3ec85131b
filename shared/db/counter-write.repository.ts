import { sql, type Transaction } from 'kysely';
import type { Database } from './database.ts';

export type TopicCounts = { unique: number; duplicates: number };

/**
 * Adds per-topic counts to one counter shard inside the caller's transaction,
 * topics in sorted order so that concurrent writers lock rows in one order.
 *
 * @example await addToCounters(trx, new Map([['orders', { unique: 2, duplicates: 1 }]]), 3)
 */
export async function addToCounters(trx: Transaction<Database>, perTopic: ReadonlyMap<string, TopicCounts>, shard: number): Promise<void> {
  if (perTopic.size === 0) return;
  const topics = [...perTopic.keys()].sort();
  await sql`
    INSERT INTO topic_counters (topic, shard, unique_count, duplicate_count)
    SELECT t.topic, ${shard}::int, t.u, t.d
    FROM unnest(${topics}::text[], ${topics.map((t) => perTopic.get(t)?.unique ?? 0)}::bigint[],
                ${topics.map((t) => perTopic.get(t)?.duplicates ?? 0)}::bigint[]) AS t(topic, u, d)
    ON CONFLICT (topic, shard) DO UPDATE
      SET unique_count = topic_counters.unique_count + excluded.unique_count,
          duplicate_count = topic_counters.duplicate_count + excluded.duplicate_count`.execute(trx);
}
