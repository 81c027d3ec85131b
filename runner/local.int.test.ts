import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFunction, type FunctionProcess } from '../dev/processes.ts';
import { createTestDatabase, testRedis, TEST_REDIS_URL, type TestDatabase } from '../dev/services.ts';
import { waitFor } from '../dev/wait.ts';

// `npm start` as a newcomer runs it: one process, one port, the poller inside.
let database: TestDatabase;
const redis = testRedis('local');
let runner: FunctionProcess;
beforeAll(async () => {
  database = await createTestDatabase('local', { migrate: false });
  runner = await startFunction('runner/local.ts', { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix });
});
afterAll(async () => {
  await runner?.kill();
  await redis.cleanup();
  await database.drop();
});

it('migrates, accepts a curl-style publish, stores it, and stops on SIGTERM', async () => {
  const published = await fetch(`${runner.url}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ topic: 'orders', event_id: 'first', timestamp: '2026-11-25T08:00:00Z', source: 'curl', payload: { hello: 'world' } }),
  });
  expect(published.status).toBe(202);
  const page = await waitFor(async () => {
    const body = (await (await fetch(`${runner.url}/events`)).json()) as { events: Array<Record<string, unknown>> };
    return body.events.length > 0 ? body : null;
  }, { what: 'the event to be stored' });
  expect(page.events[0]).toMatchObject({ topic: 'orders', event_id: 'first', source: 'curl', payload: { hello: 'world' }, timestamp: '2026-11-25T08:00:00Z' });
  expect(await (await fetch(`${runner.url}/stats`)).json()).toMatchObject({ received: 1, unique_processed: 1, duplicate_dropped: 0, pending: 0 });
  expect(await runner.stop()).toBe(0);
  expect(runner.output()).toContain('"msg":"Applied database migrations"');
  // The storage thread claims only once its Redis connection is up, and has started before the start line.
  expect(runner.output()).not.toContain('Claim failed');
  expect(runner.output().indexOf('"msg":"Poller started"')).toBeLessThan(runner.output().indexOf('"msg":"Listening'));
});

it('claims from every queue shard with QUEUE_SHARDS: events published over three shards are all stored', async () => {
  const shardedDb = await createTestDatabase('local_shards', { migrate: false });
  const sharded = testRedis('local_shards');
  const shards = await startFunction('runner/local.ts', { DATABASE_URL: shardedDb.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: sharded.prefix, QUEUE_SHARDS: '3' });
  try {
    for (let i = 0; i < 30; i++) {
      const published = await fetch(`${shards.url}/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ topic: 'orders', event_id: `e${i}`, timestamp: '2026-11-25T08:00:00Z', source: 'curl', payload: {} }),
      });
      expect(published.status).toBe(202);
    }
    // Thirty messages land on all three shards, and the storage thread drains each of them.
    const received = await Promise.all([`{${sharded.prefix}}`, `{${sharded.prefix}:1}`, `{${sharded.prefix}:2}`]
      .map(async (tag) => Number(await sharded.redis.hget(`${tag}:counters`, 'received'))));
    expect(received.every((n) => n > 0)).toBe(true);
    const stats = await waitFor(async () => {
      const body = (await (await fetch(`${shards.url}/stats`)).json()) as { unique_processed: number; pending: number };
      return body.unique_processed === 30 && body.pending === 0 ? body : null;
    }, { what: 'every shard to be drained', timeoutMs: 30_000 });
    expect(stats).toMatchObject({ received: 30, unique_processed: 30, duplicate_dropped: 0, pending: 0 });
  } finally {
    await shards.kill();
    await sharded.cleanup();
    await shardedDb.drop();
  }
});
