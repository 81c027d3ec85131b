import { request } from 'node:http';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventsBetween, planRun } from '../../loadtest/lib/events.js';
import { EventQueue } from '../../shared/queue/queue.ts';
import { expectDrainedAndExact } from '../support/invariant.ts';
import { startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { createTestDatabase, testRedis, TEST_REDIS_URL, type TestDatabase } from '../../dev/services.ts';
import { waitFor } from '../../dev/wait.ts';

const r = testRedis('restart');
let database: TestDatabase;
let queue: EventQueue;
let n = 0;
const started: FunctionProcess[] = [];
beforeEach(async () => {
  database = await createTestDatabase('restart');
  queue = new EventQueue(r.redis, `${r.prefix}-${n++}`);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.kill()));
  await database.drop();
});
afterAll(r.cleanup);

async function start(entry: string, env: Record<string, string> = {}) {
  const p = await startFunction(entry, { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: queue.prefix, ...env });
  started.push(p);
  return p;
}

describe('the whole runner killed with a backlog', () => {
  it('processes everything once after a restart', async () => {
    // One slow claim loop with small batches, so a backlog builds up behind the publishers.
    const env = { WORKERS: '1', BATCH_MAX_EVENTS: '50', BATCH_MAX_MESSAGES: '1', QUEUE_LEASE_MS: '1000' };
    const runner = await start('runner/local.ts', env);
    const plan = planRun({ total: 6_000, seed: 41 });
    await Promise.all(Array.from({ length: 4 }, async (_, p) => {
      for (let from = p * 50; from < plan.total; from += 200) {
        const response = await fetch(`${runner.url}/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(eventsBetween(plan, from, from + 50)) });
        expect(response.status).toBe(202);
      }
    }));
    await runner.kill();
    const backlog = await queue.counters();
    expect(backlog.received).toBe(6_000);
    expect(backlog.pending).toBeGreaterThan(0);

    await start('runner/local.ts', { WORKERS: '2', QUEUE_LEASE_MS: '1000' });
    const s = await expectDrainedAndExact(queue, database.db);
    expect(s).toMatchObject({ received: 6_000, unique: plan.unique, duplicates: plan.duplicates, dead: 0 });
  });
});

describe('SIGTERM', () => {
  it.each(['functions/process/server.ts', 'runner/local.ts'])('%s stuck in a batch hands it back and exits within SHUTDOWN_TIMEOUT_MS', async (entry) => {
    const lock = new pg.Client({ connectionString: database.url });
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE processed_messages IN SHARE MODE');
    const worker = await start(entry, { WORKERS: '1', SHUTDOWN_TIMEOUT_MS: '3000' });
    const plan = planRun({ total: 100, seed: 51 });
    await queue.enqueue({ id: 'stuck', events: eventsBetween(plan, 0, 100) }, 1e6);
    await waitFor(async () => (await queue.depth()).batchesInFlight === 1, { what: 'the worker to claim' });

    const stopping = Date.now();
    expect(await worker.stop()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(3_000);
    expect(worker.output()).toContain('Returned unfinished batches to the queue');
    expect(await queue.depth()).toEqual({ queuedMessages: 1, batchesInFlight: 0 });

    await lock.query('ROLLBACK');
    await lock.end();
    await start('functions/process/server.ts');
    const s = await expectDrainedAndExact(queue, database.db);
    expect(s).toMatchObject({ received: 100, unique: plan.unique, duplicates: plan.duplicates });
  });

  it('ingest finishes the requests in flight and then exits', async () => {
    const ingest = await start('functions/ingest/server.ts');
    const plan = planRun({ total: 2_000, seed: 61 });
    const requests = Array.from({ length: 20 }, (_, i) =>
      fetch(`${ingest.url}/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(eventsBetween(plan, i * 100, i * 100 + 100)) }));
    await waitFor(async () => (await queue.counters()).received > 0, { what: 'the first request to land' });
    const code = ingest.stop();
    const statuses = await Promise.all(requests.map((p) => p.then((res) => res.status, () => 'refused')));
    expect(await code).toBe(0);
    // Each request either got its 202 (and is in the queue) or was never taken: nothing in between.
    const accepted = statuses.filter((s) => s === 202).length;
    expect(statuses.every((s) => s === 202 || s === 'refused')).toBe(true);
    expect((await queue.counters()).received).toBe(accepted * 100);
  });

  it('a request half sent when SIGTERM comes is finished: 202, and counted', async () => {
    const ingest = await start('functions/ingest/server.ts', { SHUTDOWN_TIMEOUT_MS: '10000' });
    const body = JSON.stringify(eventsBetween(planRun({ total: 50, seed: 71 }), 0, 50));
    const { port } = new URL(ingest.url);
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/publish', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, body.length / 2));
      // A round trip on another connection: by its answer the server has read the first half.
      void fetch(`${ingest.url}/healthz`).then(async () => {
        ingest.child.kill('SIGTERM');
        await waitFor(() => ingest.output().includes('Shutting down'), { what: 'ingest to start shutting down' });
        req.end(body.slice(body.length / 2));
      });
    });
    const { status, body: text } = await answer;
    expect(status).toBe(202);
    expect(JSON.parse(text)).toMatchObject({ accepted: 50 });
    expect(await ingest.exited).toBe(0);
    expect((await queue.counters()).received).toBe(50);
  });
});
