import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event } from '../../dev/harness.ts';
import { createTestDatabase, type TestDatabase } from '../../dev/services.ts';
import type { Event } from '../event/event.schema.ts';
import { busiestTopics, readTotals, topicsByName } from './counter.repository.ts';
import type { Db } from './database.ts';
import { storeMessages } from '../../functions/process/store-messages.ts';
import { countEvents } from './event.repository.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase('counters');
});
afterAll(() => t.drop());

const ev = (topic: string, id: string) => event({ topic, event_id: id }) as Event;
let nextId = 0;
/** Stores events as one message on a shard, as a worker's transaction does. */
const store = (events: Event[], shard: number) => t.db.transaction().execute((trx) => storeMessages(trx, [{ id: `m${nextId++}`, events }], shard, new Set()));

/** The counters summed the old way, over every (topic, shard) row. */
async function summedOverTopics() {
  const row = await t.db.selectFrom('topic_counters')
    .select([sql<string>`coalesce(sum(unique_count), 0)`.as('u'), sql<string>`coalesce(sum(duplicate_count), 0)`.as('d')])
    .executeTakeFirstOrThrow();
  return { uniqueProcessed: Number(row.u), duplicateDropped: Number(row.d) };
}

/** Rows of topic_counters this transaction read so far (PostgreSQL's own count). */
async function rowsRead(trx: Db, table: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) AS n
    FROM pg_stat_xact_user_tables WHERE relname = ${table}`.execute(trx);
  return Number(rows[0]?.n ?? 0);
}

describe('the totals', () => {
  it('stay exact: every insert and update of a counter row, on any shard, is followed', async () => {
    expect(await readTotals(t.db)).toEqual({ uniqueProcessed: 0, duplicateDropped: 0 });
    await store([ev('a', '1'), ev('a', '1'), ev('b', '1')], 0); // inserts rows (a,0), (b,0)
    await store([ev('a', '1'), ev('a', '2'), ev('c', '1')], 0); // updates (a,0), inserts (c,0): one statement, both triggers
    await store([ev('b', '1'), ev('b', '2')], 5);
    await Promise.all([3, 4, 5, 6].map((shard) => store(Array.from({ length: 20 }, (_, i) => ev(`t${i % 4}`, `${shard}-${i % 7}`)), shard)));
    const totals = await readTotals(t.db);
    expect(totals).toEqual(await summedOverTopics());
    expect(totals.uniqueProcessed).toBe(await countEvents(t.db));
    expect(totals.uniqueProcessed + totals.duplicateDropped).toBe(3 + 3 + 2 + 4 * 20);
  });

  it('follow a rolled-back transaction by not changing', async () => {
    const before = await readTotals(t.db);
    await expect(t.db.transaction().execute(async (trx) => {
      await storeMessages(trx, [{ id: 'rolled-back', events: [ev('z', '1')] }], 2, new Set());
      throw new Error('abort');
    })).rejects.toThrow('abort');
    expect(await readTotals(t.db)).toEqual(before);
  });

  it('are read without touching a per-topic row', async () => {
    await t.db.transaction().execute(async (trx) => {
      const [topicRows, totalRows] = [await rowsRead(trx, 'topic_counters'), await rowsRead(trx, 'counter_totals')];
      await readTotals(trx);
      expect(await rowsRead(trx, 'topic_counters')).toBe(topicRows);
      expect(await rowsRead(trx, 'counter_totals')).toBeGreaterThan(totalRows); // the count works
    });
  });
});

describe('the topics', () => {
  const TOPICS = 10_000;
  const SHARDS = 16;
  // 10,000 topics on 16 shards with a long tail (topic n has about 1,000,000/n events), each spread evenly over
  // the shards, as workers taking batches at random spread them.
  beforeAll(async () => {
    await sql`TRUNCATE topic_counters`.execute(t.db);
    await sql`INSERT INTO topic_counters (topic, shard, unique_count, duplicate_count)
      SELECT 'n' || lpad(n::text, 5, '0'), s, 1 + 700000 / n / ${SHARDS}, 300000 / n / ${SHARDS}
      FROM generate_series(1, ${TOPICS}::int) AS n, generate_series(0, ${SHARDS - 1}::int) AS s`.execute(t.db);
    await sql`ANALYZE topic_counters`.execute(t.db);
  });

  it('keeps the totals in step with a bulk write and a TRUNCATE', async () => {
    const summed = await summedOverTopics();
    expect(summed.uniqueProcessed).toBeGreaterThan(TOPICS * SHARDS);
    expect(await readTotals(t.db)).toEqual(summed);
  });

  it('lists the busiest first, bounded, reading a bounded number of counter rows', async () => {
    await t.db.transaction().execute(async (trx) => {
      const before = await rowsRead(trx, 'topic_counters');
      const top = await busiestTopics(trx, 100); // the default of /stats
      const expected = Array.from({ length: 10 }, (_, i) => i + 1).map((n) => ({
        topic: `n${String(n).padStart(5, '0')}`,
        unique_processed: SHARDS * (1 + Math.floor(700_000 / n / SHARDS)),
        duplicate_dropped: SHARDS * Math.floor(300_000 / n / SHARDS),
      }));
      expect(top.slice(0, 10)).toEqual(expected);
      expect(top.map((x) => x.topic)).toEqual(Array.from({ length: 100 }, (_, i) => `n${String(i + 1).padStart(5, '0')}`));
      // At most `limit × shards` rows to choose, and each chosen topic's shards to sum; never the 160,000 rows.
      expect(await rowsRead(trx, 'topic_counters') - before).toBeLessThanOrEqual(2 * 100 * SHARDS);
    });
  });

  it('pages through every topic in name order, each page reading its own rows only', async () => {
    const seen: string[] = [];
    let after = '';
    for (;;) {
      const page = await t.db.transaction().execute(async (trx) => {
        const before = await rowsRead(trx, 'topic_counters');
        const p = await topicsByName(trx, { after, limit: 1000 });
        expect(await rowsRead(trx, 'topic_counters') - before).toBeLessThanOrEqual((1000 + 2) * SHARDS);
        return p;
      });
      seen.push(...page.topics.map((x) => x.topic));
      if (!page.more) break;
      after = page.topics.at(-1)?.topic ?? '';
    }
    expect(seen).toHaveLength(TOPICS);
    expect(seen).toEqual([...seen].sort());
  });
});
