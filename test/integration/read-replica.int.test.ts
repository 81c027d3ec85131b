import { afterAll, beforeAll, expect, it } from 'vitest';
import { event } from '../../dev/harness.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../../dev/private-postgres.ts';
import { startStreamingReplica, type StreamingReplica } from '../../dev/private-postgres-replica.ts';
import { startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { testRedis, TEST_REDIS_URL } from '../../dev/services.ts';

// DATABASE_READ_URL: GET /events reads from a streaming replica; the counters stay on the primary.
let primary: PrivatePostgres;
let replica: StreamingReplica;
const redis = testRedis('read-replica');
let processFn: FunctionProcess;
let stats: FunctionProcess;

beforeAll(async () => {
  primary = await startPrivatePostgres();
  replica = await startStreamingReplica(primary);
  const env = { DATABASE_URL: primary.url, DATABASE_READ_URL: replica.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix };
  // Both migrate the primary (under the Migrator's lock); the replica gets the schema by streaming.
  [processFn, stats] = await Promise.all([
    startFunction('functions/process/server.ts', { ...env, DATABASE_READ_URL: '' }),
    startFunction('functions/stats/server.ts', env),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([processFn, stats].map((f) => f?.kill()));
  await redis.cleanup();
  await replica?.destroy();
  await primary?.destroy();
});

const listed = async () => {
  const response = await fetch(`${stats.url}/events?topic=replicated`);
  return { status: response.status, ids: ((await response.json()) as { events?: Array<{ event_id: string }> }).events?.map((e) => e.event_id) };
};

it('serves GET /events from the replica (it answers with the primary down), the counters from the primary', async () => {
  const stored = await fetch(`${processFn.url}/`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify([event({ topic: 'replicated', event_id: 'r-1' }), event({ topic: 'replicated', event_id: 'r-2' })]),
  });
  expect(await stored.json()).toMatchObject({ processed: 2, unique: 2 });
  await replica.caughtUp();
  expect(await listed()).toEqual({ status: 200, ids: ['r-1', 'r-2'] });
  expect((await (await fetch(`${stats.url}/stats`)).json()) as object).toMatchObject({ unique_processed: 2 });

  // With the primary gone, only a reader on the replica can still list the events.
  await primary.stop();
  expect(await listed()).toEqual({ status: 200, ids: ['r-1', 'r-2'] });
  const counters = await fetch(`${stats.url}/stats`);
  expect(counters.status).toBe(503);
  expect(await counters.json()).toMatchObject({ dependency: 'postgres' });
  const ready = (await (await fetch(`${stats.url}/readyz`)).json()) as { dependencies: Record<string, boolean> };
  expect(ready.dependencies).toMatchObject({ postgres: false });
  await primary.start();
}, 60_000);
