import { sql } from 'kysely';
import type { Db } from './database.ts';

export type TopicTotals = { topic: string; unique_processed: number; duplicate_dropped: number };

const topicTotals = (rows: Array<{ topic: string; unique: string; duplicates: string }>): TopicTotals[] =>
  rows.map((r) => ({ topic: r.topic, unique_processed: Number(r.unique), duplicate_dropped: Number(r.duplicates) }));

const summed = [sql<string>`sum(unique_count)`.as('unique'), sql<string>`sum(duplicate_count)`.as('duplicates')];

/**
 * The PostgreSQL side of the counters over all topics: one row per counter
 * shard is read, whatever the number of topics.
 *
 * @example const { uniqueProcessed, duplicateDropped } = await readTotals(db)
 */
export async function readTotals(db: Db): Promise<{ uniqueProcessed: number; duplicateDropped: number }> {
  const row = await db
    .selectFrom('counter_totals')
    .select([sql<string>`coalesce(sum(unique_count), 0)`.as('unique'), sql<string>`coalesce(sum(duplicate_count), 0)`.as('duplicates')])
    .executeTakeFirstOrThrow();
  return { uniqueProcessed: Number(row.unique), duplicateDropped: Number(row.duplicates) };
}

/**
 * The busiest topics first (most events, stored plus dropped), at most `limit`,
 * each with its exact counts summed over its shards.
 *
 * Which topics are listed is decided from the top of an index over single
 * (topic, shard) rows: of the busiest `limit × shards` rows, the `limit` topics
 * whose rows there add up to most. So at most 2 × limit × shards rows are read,
 * whatever the number of topics. The price: the choice is exact when each busy
 * topic's shards grow together, as they do when workers take batches at random;
 * a topic whose traffic went unevenly to its shards can be left out in favour of
 * one slightly less busy in total. The counts shown are always exact.
 *
 * @example await busiestTopics(db, 100)
 */
export async function busiestTopics(db: Db, limit: number): Promise<TopicTotals[]> {
  const rows = await db
    .with('ranked', (q) =>
      q.selectFrom('topic_counters')
        .select(['topic', sql<string>`unique_count + duplicate_count`.as('events')])
        .orderBy(sql`unique_count + duplicate_count`, 'desc')
        .orderBy('topic')
        // The shards in use, not COUNTER_SHARDS: the setting may have changed since rows were written.
        .limit(sql<number>`${limit} * (SELECT greatest(count(*), 1) FROM counter_totals)`))
    .with('chosen', (q) =>
      q.selectFrom('ranked').select('topic').groupBy('topic').orderBy(sql`sum(events)`, 'desc').orderBy('topic').limit(limit))
    // LATERAL: each chosen topic's shards are summed by its own primary-key lookup. A plain join lets the
    // planner, unsure of the LIMIT above, hash-join against a scan of every counter row.
    .selectFrom('chosen')
    .innerJoinLateral(
      (eb) => eb.selectFrom('topic_counters').select(summed).whereRef('topic_counters.topic', '=', 'chosen.topic').as('sums'),
      (join) => join.onTrue(),
    )
    .select(['chosen.topic', 'sums.unique', 'sums.duplicates'])
    .orderBy(sql`sums.unique + sums.duplicates`, 'desc')
    .orderBy('chosen.topic')
    .execute();
  return topicTotals(rows);
}

/**
 * Every topic, a page at a time, in name order after `after` (keyset: each page
 * reads only its own topics' rows, at any depth).
 *
 * @example const page = await topicsByName(db, { after: '', limit: 1000 })
 */
export async function topicsByName(db: Db, query: { after: string; limit: number }): Promise<{ topics: TopicTotals[]; more: boolean }> {
  const rows = await db
    .selectFrom('topic_counters')
    .select(['topic', ...summed])
    .where('topic', '>', query.after)
    .groupBy('topic')
    .orderBy('topic')
    .limit(query.limit + 1)
    .execute();
  return { topics: topicTotals(rows.slice(0, query.limit)), more: rows.length > query.limit };
}

/**
 * The totals and the busiest topics together, as GET /stats shows them.
 *
 * @example const { uniqueProcessed, topics } = await readCounters(db)
 */
export async function readCounters(db: Db, topicsLimit = 100): Promise<{ uniqueProcessed: number; duplicateDropped: number; topics: TopicTotals[] }> {
  const [totals, topics] = await Promise.all([readTotals(db), busiestTopics(db, topicsLimit)]);
  return { ...totals, topics };
}
