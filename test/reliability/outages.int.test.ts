import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventsBetween, planRun } from '../../loadtest/lib/events.js';
import { createDb } from '../../shared/db/database.ts';
import { EventQueue } from '../../shared/queue/queue.ts';
import { expectDrainedAndExact } from '../support/invariant.ts';
import { startPrivatePostgres } from '../../dev/private-postgres.ts';
import { startPrivateRedis } from '../../dev/private-redis.ts';
import { startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { createTestDatabase, testRedis, TEST_REDIS_URL } from '../../dev/services.ts';
import { waitFor } from '../../dev/wait.ts';

const started: FunctionProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.kill()));
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function start(entry: string, env: Record<string, string>) {
  const p = await startFunction(entry, env);
  started.push(p);
  return p;
}

const publish = (url: string, events: unknown[]) =>
  fetch(`${url}/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });

/** Publishes a plan in batches of 50; returns how many events got a 202. */
async function publishAll(url: string, plan: ReturnType<typeof planRun>) {
  let accepted = 0;
  for (let from = 0; from < plan.total; from += 50) {
    const response = await publish(url, eventsBetween(plan, from, from + 50));
    expect(response.status).toBe(202);
    accepted += ((await response.json()) as { accepted: number }).accepted;
  }
  return accepted;
}

describe('Redis down', () => {
  it('ingest answers 503 with Retry-After, readiness names Redis, and with AOF a restart loses nothing', async () => {
    const [redisServer, database] = await Promise.all([startPrivateRedis(), createTestDatabase('redis_outage')]);
    cleanups.push(redisServer.destroy, database.drop);
    const env = { REDIS_URL: redisServer.url, DATABASE_URL: database.url, QUEUE_PREFIX: 'outage', WORKERS: '2' };
    // No worker yet: what the SIGKILL hits is a full queue, not one already drained.
    const ingest = await start('functions/ingest/server.ts', env);

    const before = planRun({ total: 2_000, seed: 11 });
    expect(await publishAll(ingest.url, before)).toBe(2_000);
    const probe = new Redis(redisServer.url);
    expect(await new EventQueue(probe, 'outage').depth()).toEqual({ queuedMessages: 40, batchesInFlight: 0 });
    probe.disconnect();
    await redisServer.kill();

    const refused = await publish(ingest.url, eventsBetween(planRun({ total: 10, seed: 12 }), 0, 10));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused.json()).toMatchObject({ error: 'unavailable', dependency: 'redis' });
    const ready = await fetch(`${ingest.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ dependencies: { redis: false }, down: ['redis'] });

    await redisServer.start();
    await waitFor(async () => (await fetch(`${ingest.url}/readyz`)).ok, { timeoutMs: 30_000, what: 'ingest to reconnect to Redis' });
    await start('functions/process/server.ts', env);
    const after = planRun({ total: 2_000, seed: 13 });
    expect(await publishAll(ingest.url, after)).toBe(2_000);

    const redis = new Redis(redisServer.url);
    try {
      const s = await expectDrainedAndExact(new EventQueue(redis, 'outage'), database.db);
      // Every event that got a 202 survived the crash of Redis: none was lost, none counted twice.
      expect(s).toMatchObject({ received: 4_000, unique: before.unique + after.unique, duplicates: before.duplicates + after.duplicates, dead: 0 });
    } finally {
      redis.disconnect();
    }
  });
});

describe('PostgreSQL down', () => {
  it('workers wait and retry, ingest keeps accepting up to the backpressure limit, nothing is lost', async () => {
    const server = await startPrivatePostgres();
    cleanups.push(server.destroy);
    const r = testRedis('pg_outage');
    cleanups.push(r.cleanup);
    const env = { REDIS_URL: TEST_REDIS_URL, DATABASE_URL: server.url, QUEUE_PREFIX: r.prefix, WORKERS: '2', MAX_QUEUE_LENGTH: '3000' };
    const [ingest, processor] = await Promise.all([start('functions/ingest/server.ts', env), start('functions/process/server.ts', env)]);

    const first = planRun({ total: 1_000, seed: 21 });
    expect(await publishAll(ingest.url, first)).toBe(1_000);
    await server.stop();

    // Down: accepted while the queue has room, then 429 with Retry-After.
    const second = planRun({ total: 2_000, seed: 22 });
    expect(await publishAll(ingest.url, second)).toBe(2_000);
    const readiness = await fetch(`${processor.url}/readyz`);
    expect(await readiness.json()).toMatchObject({ dependencies: { postgres: false } });
    const queue = new EventQueue(r.redis, r.prefix);
    await waitFor(async () => (await queue.counters()).pending > 0, { what: 'the events to wait in the queue' });
    // Keep publishing until the queue is full: the limit is 3,000 pending events.
    const extra = planRun({ total: 5_000, seed: 23 });
    let accepted = 3_000;
    let refusal: Response | undefined;
    for (let from = 0; from < extra.total && !refusal; from += 100) {
      const response = await publish(ingest.url, eventsBetween(extra, from, from + 100));
      if (response.status === 202) accepted += 100;
      else refusal = response;
    }
    expect(refusal?.status).toBe(429);
    expect(refusal?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refusal?.json()).toMatchObject({ error: 'backpressure' });
    expect((await queue.counters()).pending).toBeLessThanOrEqual(3_000);

    await server.start();
    const db = createDb(server.url, 2);
    try {
      const s = await expectDrainedAndExact(queue, db);
      expect(s.received).toBe(accepted);
      expect(s.dead).toBe(0);
      expect(processor.output()).toContain('Storing batch failed, retrying');
    } finally {
      await db.destroy();
    }
  });

  it('a deadlock, a serialization failure or a lock timeout is retried, not dead-lettered', async () => {
    const database = await createTestDatabase('pg_faults');
    cleanups.push(database.drop);
    const r = testRedis('pg_faults');
    cleanups.push(r.cleanup);
    // Real PostgreSQL errors, raised by a trigger for the first inserts: a sequence counts
    // outside the failing transactions, so the faults stop after six tries.
    await database.db.schema.createTable('faults_seen').addColumn('n', 'integer').execute();
    const { sql } = await import('kysely');
    await sql`CREATE SEQUENCE fault_seq`.execute(database.db);
    await sql`
      CREATE FUNCTION inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE n bigint := nextval('fault_seq');
      BEGIN
        IF n <= 2 THEN RAISE EXCEPTION 'injected deadlock' USING ERRCODE = '40P01'; END IF;
        IF n <= 4 THEN RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = '40001'; END IF;
        IF n <= 6 THEN RAISE EXCEPTION 'injected lock timeout' USING ERRCODE = '55P03'; END IF;
        RETURN NEW;
      END $$`.execute(database.db);
    await sql`CREATE TRIGGER inject_fault BEFORE INSERT ON processed_messages FOR EACH STATEMENT EXECUTE FUNCTION inject_fault()`.execute(database.db);

    const processor = await start('functions/process/server.ts', { REDIS_URL: TEST_REDIS_URL, DATABASE_URL: database.url, QUEUE_PREFIX: r.prefix, WORKERS: '1' });
    const queue = new EventQueue(r.redis, r.prefix);
    const plan = planRun({ total: 300, seed: 31 });
    for (let from = 0; from < 300; from += 100) await queue.enqueue({ id: `f${from}`, events: eventsBetween(plan, from, from + 100) }, 1e6);
    const s = await expectDrainedAndExact(queue, database.db);
    expect(s).toMatchObject({ received: 300, unique: plan.unique, duplicates: plan.duplicates, dead: 0 });
    for (const code of ['40P01', '40001', '55P03']) expect(processor.output()).toContain(code);
  });
});
