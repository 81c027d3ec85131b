import { execFileSync } from 'node:child_process';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventsBetween, planRun } from '../loadtest/lib/events.js';
import { EventQueue } from '../shared/queue/queue.ts';
import { createTestDatabase, testRedis, TEST_REDIS_URL, type TestDatabase } from '../dev/services.ts';
import { waitFor } from '../dev/wait.ts';
import { startStorageThread, type StorageThread } from './storage-thread.ts';

// npm start's claim loops in a thread of their own: they store while the main thread's event loop is held.
const r = testRedis('storage-thread');
let database: TestDatabase;
let storage: StorageThread;
beforeAll(async () => {
  database = await createTestDatabase('storage_thread');
  // The thread reads its config from the environment, as runner/local.ts leaves it.
  Object.assign(process.env, { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: r.prefix, LOG_LEVEL: 'silent', WORKERS: '2' });
  storage = await startStorageThread(pino({ level: 'silent' }));
});
afterAll(async () => {
  await storage?.stop();
  await r.cleanup();
  await database?.drop();
});

/** Polls the stored rows with a synchronous psql, so this thread's event loop never turns meanwhile. */
function storedWhileHeld(wanted: number, timeoutMs: number): number {
  const deadline = Date.now() + timeoutMs;
  let stored = 0;
  while (stored < wanted && Date.now() < deadline) {
    stored = Number(execFileSync('psql', ['-qtAX', database.url, '-c', 'SELECT count(*) FROM events'], { encoding: 'utf8' }).trim());
  }
  return stored;
}

it('stores queued events while the main thread is busy, and reports what it stored', async () => {
  const queue = new EventQueue(r.redis, r.prefix);
  const plan = planRun({ total: 500, duplicateRatio: 0.3, seed: 12 });
  for (let from = 0; from < plan.total; from += 100) await queue.enqueue({ id: `m${from}`, at: Date.now(), events: eventsBetween(plan, from, from + 100) }, 1e6);

  expect(storedWhileHeld(plan.unique, 30_000)).toBe(plan.unique);

  // A claim's counters move once its outcome is told (a Redis round trip after the commit): its rows can be
  // visible a moment before them.
  let metrics = await storage.metrics();
  const value = (name: string) => metrics.find((m) => m.name === name)?.values[0]?.value;
  await waitFor(async () => {
    metrics = await storage.metrics();
    return value('aggregator_events_unique_total') === plan.unique;
  }, { timeoutMs: 10_000, what: `the storage thread to count ${plan.unique} unique events` });
  expect(value('aggregator_events_duplicate_total')).toBe(plan.duplicates);
  // The runtime's metrics are the whole process's: the main thread reports them, once.
  expect(metrics.every((m) => m.name.startsWith('aggregator_'))).toBe(true);
}, 60_000);

it('stops on request: the thread ends', async () => {
  await storage.stop();
  expect(await storage.metrics()).toEqual([]);
});
