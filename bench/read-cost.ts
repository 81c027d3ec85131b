// `npm run bench:reads -- [--topics 10,10000,100000] [--events 1000000] [--requests 300]`:
// what the read side costs at scale, on a database of its own.
// 1. GET /stats over HTTP with N topics × COUNTER_SHARDS counter rows, beside the aggregate /stats
//    ran before (every topic summed on each call), which is what the totals table replaced.
// 2. GET /events: the plan and time of each filter on `--events` stored rows (EXPLAIN ANALYZE).
import { serve } from '@hono/node-server';
import { sql, type Transaction } from 'kysely';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import type { Database } from '../shared/db/database.ts';
import { eventPageQuery, type EventQuery } from '../shared/db/event-read.repository.ts';
import { createHarness } from '../dev/harness.ts';
import { median } from './report/median.ts';

const { values } = parseArgs({ options: { topics: { type: 'string', default: '10,10000,100000' }, events: { type: 'string', default: '1000000' }, requests: { type: 'string', default: '300' } } });
const topicCounts = values.topics.split(',').map(Number);
const eventRows = Number(values.events);
const requests = Number(values.requests);

const h = await createHarness('bench-reads');
const server = serve({ fetch: h.stats.fetch, port: 0, hostname: '127.0.0.1' });
await new Promise((resolve) => server.once('listening', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const shards = h.config.counterShards;
const ms = (from: number) => performance.now() - from;
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const out: string[] = [];
// Loading runs without the pool's statement timeout: millions of rows with their indexes take longer than 30 s on a busy machine.
const unhurried = (load: (trx: Transaction<Database>) => Promise<void>) =>
  h.db.transaction().execute(async (trx) => {
    await sql`SET LOCAL statement_timeout = 0`.execute(trx);
    await load(trx);
  });

try {
  out.push(`## GET /stats (${shards} counter shards, ${requests} sequential requests over HTTP)`, '',
    '| topics | counter rows | /stats median ms | /stats p99 ms | the former all-topic aggregate, median ms |', '| --- | --- | --- | --- | --- |');
  for (const topics of topicCounts) {
    // Topic n gets about 1,000,000/n events (a long tail, as real traffic), spread evenly over the shards.
    await unhurried(async (trx) => {
      await sql`TRUNCATE topic_counters`.execute(trx);
      await sql`INSERT INTO topic_counters (topic, shard, unique_count, duplicate_count)
        SELECT 'topic-' || n, s, 1 + 700000 / n / ${shards}, 300000 / n / ${shards}
        FROM generate_series(1, ${topics}::int) AS n, generate_series(0, ${shards - 1}::int) AS s`.execute(trx);
      await sql`ANALYZE topic_counters`.execute(trx);
    });
    const latencies: number[] = [];
    for (let i = 0; i < requests; i++) {
      const started = performance.now();
      const response = await fetch(`${url}/stats`);
      if (response.status !== 200) throw new Error(`/stats answered ${response.status}`);
      await response.arrayBuffer();
      latencies.push(ms(started));
    }
    const former: number[] = [];
    for (let i = 0; i < Math.min(requests, 30); i++) {
      const started = performance.now();
      await sql`SELECT topic, sum(unique_count), sum(duplicate_count) FROM topic_counters GROUP BY topic ORDER BY topic`.execute(h.db);
      former.push(ms(started));
    }
    latencies.sort((a, b) => a - b);
    out.push(`| ${topics.toLocaleString('en-US')} | ${(topics * shards).toLocaleString('en-US')} | ${median(latencies).toFixed(2)} | ${quantile(latencies, 0.99).toFixed(2)} | ${median(former).toFixed(2)} |`);
    console.error(out.at(-1));
  }

  console.error(`loading ${eventRows.toLocaleString('en-US')} events`);
  let started = performance.now();
  // 200 topics and 50 sources with long tails (topic k holds about 1/k of the rows), a second apart.
  await unhurried(async (trx) => {
    await sql`INSERT INTO events (topic, event_id, "timestamp", source, payload)
      SELECT 'topic-' || (1 + floor(200 ^ random())::int), 'e-' || i, timestamptz '2026-01-01T00:00:00Z' + i * interval '1 second',
             'svc-' || (1 + floor(50 ^ random())::int), jsonb_build_object('i', i)
      FROM generate_series(1, ${eventRows}::int) AS i`.execute(trx);
    await sql`ANALYZE events`.execute(trx);
  });
  out.push('', `## GET /events on ${eventRows.toLocaleString('en-US')} rows (loaded in ${(ms(started) / 1000).toFixed(0)} s), 100 a page, EXPLAIN ANALYZE`, '',
    '| filter | order | plan (access to events) | ms |', '| --- | --- | --- | --- |');
  const middle = new Date(Date.parse('2026-01-01T00:00:00Z') + (eventRows / 2) * 1000).toISOString();
  const dayLater = new Date(Date.parse(middle) + 86_400_000).toISOString();
  const cases: Array<[string, Partial<EventQuery>]> = [
    ['busiest topic', { topic: 'topic-1' }],
    ['a quiet topic', { topic: 'topic-150' }],
    ['event_id', { eventId: `e-${Math.floor(eventRows / 3)}` }],
    ['topic + event_id', { topic: 'topic-1', eventId: `e-${Math.floor(eventRows / 3)}` }],
    ['a quiet source', { source: 'svc-40' }],
    ['busiest topic + a quiet source', { topic: 'topic-1', source: 'svc-40' }],
    ['a day (since + until)', { since: middle, until: dayLater }],
    ['a quiet topic + a day', { topic: 'topic-150', since: middle, until: dayLater }],
    ['since (the later half)', { since: middle }],
  ];
  for (const [name, filter] of cases) {
    for (const order of ['asc', 'desc'] as const) {
      for (const afterSeq of [null, String(Math.floor(eventRows * 0.75))]) {
        const query = { ...filter, order, afterSeq, limit: 100 };
        started = performance.now();
        const plan = (await eventPageQuery(h.db, query).explain('text', sql`analyze`)).map((r) => String(r['QUERY PLAN'])).join('\n');
        // The index each access path reads: `Index Scan using <index> on events`, `Bitmap Index Scan on <index>`.
        const access = [...plan.matchAll(/(?:Index (?:Only )?Scan(?: Backward)? using|Bitmap Index Scan on) (\w+)|(Seq Scan) on events/g)].map((m) => m[1] ?? m[2]);
        const time = /Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? '?';
        if (plan.includes('Seq Scan on events')) console.error(`SEQ SCAN: ${name}\n${plan}`);
        out.push(`| ${name}${afterSeq ? ', after a cursor' : ''} | ${order} | ${[...new Set(access)].join(' + ')}${plan.includes('Seq Scan on events') ? ' **Seq Scan**' : ''} | ${time} |`);
      }
    }
  }
} finally {
  server.close();
  await h.cleanup();
}
console.log(out.join('\n'));
