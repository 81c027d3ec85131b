import { afterEach, describe, expect, it } from 'vitest';
import { eventAt, planRun, type Plan } from '../../loadtest/lib/events.js';
import { EventQueue } from '../../shared/queue/queue.ts';
import { faultyProxy } from '../../test/support/faulty-proxy.ts';
import { expectDrainedAndExact } from '../../test/support/invariant.ts';
import { freePort, startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { createTestDatabase, testRedis, TEST_REDIS_URL } from '../../dev/services.ts';
import { waitFor } from '../../dev/wait.ts';
import type { PublishError } from './errors.ts';
import { createPublisher, type Publisher } from './publisher.ts';

// The publisher against the real system (`npm start`'s runner over real Redis
// and PostgreSQL) through what loses events in other clients: backpressure,
// connections refused or cut, answers lost, a crashed server.

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The runner on a port of its own, with its own database and queue prefix. */
async function system(label: string, env: Record<string, string> = {}) {
  const [database, port] = await Promise.all([createTestDatabase(label), freePort()]);
  const redis = testRedis(label);
  cleanups.push(() => Promise.all([redis.cleanup(), database.drop()]));
  const start = () =>
    startFunction('runner/local.ts', { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix, LOG_LEVEL: 'warn', ...env }, { port });
  let runner: FunctionProcess = await start();
  cleanups.push(() => runner.kill());
  return {
    url: runner.url,
    queue: new EventQueue(redis.redis, redis.prefix),
    db: database.db,
    /** SIGKILL: a crash, requests in flight included. */
    kill: () => runner.kill(),
    /** The runner again, on the same port. */
    start: async () => {
      runner = await start();
    },
  };
}

function publisherFor(url: string, options: { maxBatchEvents: number; concurrency: number }) {
  const errors: PublishError[] = [];
  const publisher = createPublisher({ url, ...options, onError: (e) => errors.push(e) });
  cleanups.push(() => publisher.close().catch(() => undefined));
  return { publisher, errors };
}

async function publishPlan(publisher: Publisher, plan: Plan, from = 0, to = plan.total) {
  for (let p = from; p < to; p++) await publisher.publish(eventAt(plan, p));
}

/** Every key of the plan is stored, once (the table's unique key), and nothing else is. */
async function expectEveryKeyOnce(db: Awaited<ReturnType<typeof system>>['db'], plan: Plan) {
  const stored = await db.selectFrom('events').select(['topic', 'event_id']).execute();
  const expected = new Set(Array.from({ length: plan.total }, (_, p) => eventAt(plan, p)).map((e) => `${e.topic}/${e.event_id}`));
  expect(stored).toHaveLength(plan.unique);
  expect(new Set(stored.map((e) => `${e.topic}/${e.event_id}`))).toEqual(expected);
}

describe('the publisher client against the real system', () => {
  it('gets every event through 429s from a small queue, each stored once, counters exact', async () => {
    const s = await system('client_429', { MAX_QUEUE_LENGTH: '300', WORKERS: '1', BATCH_MAX_EVENTS: '200' });
    const { publisher, errors } = publisherFor(s.url, { maxBatchEvents: 100, concurrency: 4 });
    const plan = planRun({ total: 5_000, seed: 71 });
    await publishPlan(publisher, plan);
    await publisher.close();

    expect(publisher.stats()).toMatchObject({ published: 5_000, sent: 5_000, refused: 0 });
    expect(publisher.stats().backpressure).toBeGreaterThan(0);
    expect(errors.every((e) => e.willRetry)).toBe(true);
    const counts = await expectDrainedAndExact(s.queue, s.db);
    expect(counts).toMatchObject({ received: 5_000, unique: plan.unique, duplicates: plan.duplicates, dead: 0 });
    await expectEveryKeyOnce(s.db, plan);
  }, 120_000);

  it('gets every event through refused connections and lost answers: resent events are dropped as duplicates', async () => {
    const s = await system('client_proxy');
    // Connections 1, 5, 9, ... are reset; 3, 7, 11, ... lose their answer after the server kept the batch.
    const proxy = await faultyProxy(s.url, (n) => (n % 4 === 1 ? 'refuse' : n % 4 === 3 ? 'drop-answer' : 'pass'));
    cleanups.push(proxy.close);
    const { publisher, errors } = publisherFor(proxy.url, { maxBatchEvents: 50, concurrency: 4 });
    const plan = planRun({ total: 3_000, seed: 72 });
    await publishPlan(publisher, plan);
    await publisher.close();

    expect(proxy.counts.refuse).toBeGreaterThan(0);
    expect(proxy.counts['drop-answer']).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.status === 0 && e.willRetry)).toBe(true);
    expect(publisher.stats()).toMatchObject({ published: 3_000, sent: 3_000, refused: 0 });
    const counts = await expectDrainedAndExact(s.queue, s.db);
    // Each lost answer made the server receive its batch twice: the second copy is all duplicates.
    const resent = counts.received - 3_000;
    expect(resent).toBeGreaterThan(0);
    expect(counts).toMatchObject({ unique: plan.unique, duplicates: plan.duplicates + resent, dead: 0 });
    await expectEveryKeyOnce(s.db, plan);
  }, 120_000);

  it('gets every event through a crash and restart of the server', async () => {
    const s = await system('client_restart', { QUEUE_LEASE_MS: '1000' });
    const { publisher, errors } = publisherFor(s.url, { maxBatchEvents: 100, concurrency: 4 });
    const plan = planRun({ total: 6_000, seed: 73 });
    const firstHalf = publishPlan(publisher, plan, 0, 3_000);
    await waitFor(() => publisher.stats().sent >= 1_000, { timeoutMs: 60_000, what: 'a first part to be accepted' });
    await s.kill();
    // The rest is published while the server is down: its first requests meet refused connections.
    const secondHalf = firstHalf.then(() => publishPlan(publisher, plan, 3_000, 6_000));
    await waitFor(() => errors.some((e) => e.status === 0), { what: 'the publisher to meet the server gone' });
    await s.start();
    await secondHalf;
    await publisher.close();

    expect(publisher.stats()).toMatchObject({ published: 6_000, sent: 6_000, refused: 0 });
    const counts = await expectDrainedAndExact(s.queue, s.db);
    expect(counts.received).toBeGreaterThanOrEqual(6_000);
    expect(counts).toMatchObject({ unique: plan.unique, duplicates: plan.duplicates + (counts.received - 6_000), dead: 0 });
    await expectEveryKeyOnce(s.db, plan);
  }, 120_000);
});
