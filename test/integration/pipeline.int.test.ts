import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedCounts, planRun } from '../../loadtest/lib/events.js';
import { countEvents } from '../../shared/db/event.repository.ts';
import { startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { publishPlan } from '../support/publisher.ts';
import { createTestDatabase, testRedis, TEST_REDIS_URL, type TestDatabase } from '../../dev/services.ts';
import { waitFor } from '../../dev/wait.ts';

// The functions as separate processes, as containers run them: one ingest, two
// process functions of two claim loops each (four pollers), one stats.
let database: TestDatabase;
const redis = testRedis('pipeline');
let ingest: FunctionProcess;
let processors: FunctionProcess[];
let stats: FunctionProcess;

type Stats = {
  received: number; unique_processed: number; duplicate_dropped: number; pending: number; dead_lettered: number;
  topics: Array<{ topic: string; unique_processed: number; duplicate_dropped: number }>;
};
const readStats = async (): Promise<Stats> => (await fetch(`${stats.url}/stats`)).json() as Promise<Stats>;
const quiet = (expected: number) => async () => {
  const s = await readStats();
  return s.pending === 0 && s.received === expected && s.unique_processed + s.duplicate_dropped + s.dead_lettered === expected ? s : null;
};

beforeAll(async () => {
  database = await createTestDatabase('pipeline');
  const env = { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix, WORKERS: '2' };
  [ingest, stats, ...processors] = await Promise.all([
    startFunction('functions/ingest/server.ts', env),
    startFunction('functions/stats/server.ts', env),
    startFunction('functions/process/server.ts', env),
    startFunction('functions/process/server.ts', env),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all([ingest, stats, ...processors].map((p) => p?.kill()));
  await redis.cleanup();
  await database.drop();
});

describe('the pipeline, function by function', () => {
  it('stores 20,000 events with 30% duplicates from 16 publishers exactly once', async () => {
    const plan = planRun({ total: 20_000, duplicateRatio: 0.3, seed: 42, topics: ['orders', 'payments', 'shipments', 'users', 'audit'] });
    const expected = expectedCounts(plan);
    const started = performance.now();
    const { requests } = await publishPlan(`${ingest.url}/publish`, plan, { batch: 25, concurrency: 16 });
    const published = performance.now();
    const final = await waitFor(quiet(plan.total), { timeoutMs: 120_000, intervalMs: 100, what: 'all 20,000 events processed' });
    const drained = performance.now();
    console.log(
      `pipeline: ${plan.total} events in ${requests} requests; accepted in ${((published - started) / 1000).toFixed(2)} s, ` +
      `stored end to end in ${((drained - started) / 1000).toFixed(2)} s = ${Math.round(plan.total / ((drained - started) / 1000))} events/s`,
    );

    expect(final).toMatchObject({ received: 20_000, unique_processed: expected.unique, duplicate_dropped: expected.duplicates, pending: 0, dead_lettered: 0 });
    expect(expected).toMatchObject({ unique: 14_000, duplicates: 6_000 });
    expect(await countEvents(database.db)).toBe(14_000);
    const perTopic = Object.fromEntries(final.topics.map((t) => [t.topic, { unique: t.unique_processed, duplicates: t.duplicate_dropped }]));
    expect(perTopic).toEqual(expected.topics);
    expect(final.topics.reduce((sum, t) => sum + t.unique_processed, 0)).toBe(final.unique_processed);
    expect(final.topics.reduce((sum, t) => sum + t.duplicate_dropped, 0)).toBe(final.duplicate_dropped);

    // GET /events lists every unique key once, page by page.
    const keys = new Set<string>();
    let listed = 0;
    let cursor: string | null = null;
    do {
      const page = (await (await fetch(`${stats.url}/events?limit=1000${cursor ? `&after=${cursor}` : ''}`)).json()) as {
        events: Array<{ topic: string; event_id: string }>; next_cursor: string | null;
      };
      for (const e of page.events) keys.add(`${e.topic}/${e.event_id}`);
      listed += page.events.length;
      cursor = page.next_cursor;
    } while (cursor);
    expect(listed).toBe(14_000);
    expect(keys.size).toBe(14_000);
  });

  it('stores one event published concurrently many times exactly once', async () => {
    const before = await readStats();
    const one = { topic: 'race', event_id: 'same-event', timestamp: '2026-11-25T08:00:00Z', source: 'racer', payload: { n: 1 } };
    const responses = await Promise.all(
      Array.from({ length: 40 }, () => fetch(`${ingest.url}/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(one) })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(40).fill(202));
    const after = await waitFor(quiet(before.received + 40), { timeoutMs: 60_000, what: 'the racing publishes processed' });
    expect(after.topics.find((t) => t.topic === 'race')).toEqual({ topic: 'race', unique_processed: 1, duplicate_dropped: 39 });
    const page = (await (await fetch(`${stats.url}/events?topic=race`)).json()) as { events: unknown[] };
    expect(page.events).toHaveLength(1);
  });

  it('reports in Prometheus what /stats says', async () => {
    const s = await readStats();
    const metrics = await (await fetch(`${ingest.url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(value('aggregator_events_received_total')).toBe(s.received);
    expect(value('aggregator_queue_messages')).toBe(0);
    expect(value('aggregator_events_pending')).toBe(0);
    const processed = await Promise.all(processors.map(async (p) => (await fetch(`${p.url}/metrics`)).text()));
    const sum = (name: string) => processed.reduce((total, text) => total + Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0), 0);
    expect(sum('aggregator_events_unique_total')).toBe(s.unique_processed);
    expect(sum('aggregator_events_duplicate_total')).toBe(s.duplicate_dropped);
  });

  it('logs the operators’ words as JSON lines', () => {
    const lines = [...ingest.output().split('\n'), ...processors.flatMap((p) => p.output().split('\n'))].filter(Boolean);
    const messages = new Set(lines.map((line) => (JSON.parse(line) as { msg: string }).msg));
    for (const word of ['Enqueued event', 'Processing event', 'Duplicate dropped', 'Saved to DB']) expect(messages).toContain(word);
  });

  it('stops cleanly on SIGTERM', async () => {
    const codes = await Promise.all([ingest, ...processors, stats].map((p) => p.stop()));
    expect(codes).toEqual([0, 0, 0, 0]);
  });
});
