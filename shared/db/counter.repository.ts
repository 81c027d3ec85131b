import { sql } from 'kysely';
import type { Db } from './database.ts';

export type TopicTotals = { topic: string; unique_processed: number; duplicate_dropped: number };

/**
 * The PostgreSQL side of the counters, summed over shards, per topic and in total.
 *
 * @example const { uniqueProcessed, topics } = await readCounters(db)
 */
export async function readCounters(db: Db): Promise<{ uniqueProcessed: number; duplicateDropped: number; topics: TopicTotals[] }> {
  const rows = await db
    .selectFrom('topic_counters')
    .select(['topic', sql<string>`sum(unique_count)`.as('unique'), sql<string>`sum(duplicate_count)`.as('duplicates')])
    .groupBy('topic')
    .orderBy('topic')
    .execute();
  const topics = rows.map((r) => ({ topic: r.topic, unique_processed: Number(r.unique), duplicate_dropped: Number(r.duplicates) }));
  return {
    uniqueProcessed: topics.reduce((sum, t) => sum + t.unique_processed, 0),
    duplicateDropped: topics.reduce((sum, t) => sum + t.duplicate_dropped, 0),
    topics,
  };
}
