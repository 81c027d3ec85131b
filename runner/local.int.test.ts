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
