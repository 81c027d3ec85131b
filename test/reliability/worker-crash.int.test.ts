import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventsBetween, planRun } from '../../loadtest/lib/events.js';
import { EventQueue } from '../../shared/queue/queue.ts';
import { expectDrainedAndExact } from '../support/invariant.ts';
import { startPrivateRedis, type PrivateRedis } from '../../dev/private-redis.ts';
import { startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { createTestDatabase, type TestDatabase } from '../../dev/services.ts';
import { waitFor } from '../../dev/wait.ts';

// Workers killed with SIGKILL at the worst moments. A private Redis, because one
// test pauses its writes, which would stall every other file on a shared one.
let database: TestDatabase;
let privateRedis: PrivateRedis;
let redis: Redis;
let queue: EventQueue;
let prefix = 0;
const started: FunctionProcess[] = [];

beforeAll(async () => {
  privateRedis = await startPrivateRedis();
  redis = new Redis(privateRedis.url);
});
afterAll(async () => {
  redis.disconnect();
  await privateRedis.destroy();
});
// Each test starts from an empty queue and an empty database, so its counts stand alone.
beforeEach(async () => {
  database = await createTestDatabase('worker_crash');
  queue = new EventQueue(redis, `crash-${prefix++}`);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.kill()));
  await database.drop();
});

async function startWorker(leaseMs: number, env: Record<string, string> = {}) {
  const worker = await startFunction('functions/process/server.ts', {
    DATABASE_URL: database.url, REDIS_URL: privateRedis.url, QUEUE_PREFIX: queue.prefix,
    WORKERS: '1', QUEUE_LEASE_MS: String(leaseMs), ...env,
  });
  started.push(worker);
  return worker;
}

async function enqueue(total: number, seed: number) {
  const plan = planRun({ total, duplicateRatio: 0.3, seed });
  for (let from = 0; from < total; from += 50) await queue.enqueue({ id: `m-${seed}-${from}`, events: eventsBetween(plan, from, from + 50) }, 1e9);
  return plan;
}

/** Holds a lock that makes any worker's insert wait (reads and startup go on), as a stuck statement would. */
async function lockWrites() {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE processed_messages IN SHARE MODE');
  // A failed test leaves the lock to afterEach, whose DROP DATABASE cuts this connection.
  client.on('error', () => undefined);
  return { release: async () => { await client.query('ROLLBACK'); await client.end(); } };
}

const processedMessages = async () => Number((await database.db.selectFrom('processed_messages').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

describe('a worker killed mid-batch', () => {
  it('before its commit: the batch is taken over when the lease runs out, and counted once', async () => {
    const lock = await lockWrites();
    // Queued before the worker starts, so that its first claim takes every message.
    const plan = await enqueue(500, 1);
    const doomed = await startWorker(3_000);
    await waitFor(async () => (await redis.zcard(queue.keys.leases)) > 0, { what: 'the doomed worker to claim' });
    await doomed.kill();
    await lock.release();
    const heir = await startWorker(3_000);
    const s = await expectDrainedAndExact(queue, database.db);
    expect(s).toMatchObject({ received: 500, unique: plan.unique, duplicates: plan.duplicates, dead: 0 });
    expect(heir.output()).toContain('Returned expired leases to the queue');
  });

  it('after its commit, before its acknowledgement: the redelivered batch is recognised and only acknowledged', async () => {
    const lock = await lockWrites();
    // Queued before the worker starts, so that its first claim takes every message.
    const plan = await enqueue(300, 2);
    const doomed = await startWorker(3_000);
    await waitFor(async () => (await redis.llen(queue.keys.queue)) === 0, { what: 'the doomed worker to claim everything' }).catch((e) => { throw new Error(`${e}\n${doomed.output()}`); });
    // Redis refuses writes from now on, so the acknowledgement cannot happen; the commit can.
    await redis.call('CLIENT', 'PAUSE', '60000', 'WRITE');
    await lock.release();
    await waitFor(async () => (await processedMessages()) === 6, { what: 'the doomed worker to commit' });
    await doomed.kill();
    await redis.call('CLIENT', 'UNPAUSE');
    const heir = await startWorker(3_000);
    const s = await expectDrainedAndExact(queue, database.db);
    expect(s).toMatchObject({ received: 300, unique: plan.unique, duplicates: plan.duplicates, dead: 0 });
    expect(heir.output()).toContain('Redelivered messages were already committed');
  });

  it('a live but slow worker renews its lease and keeps its batch', async () => {
    const lock = await lockWrites();
    const plan = await enqueue(200, 3);
    // Renewals every third of the lease leave room for a busy machine's event-loop lag.
    const slow = await startWorker(2_000);
    await waitFor(async () => (await redis.llen(queue.keys.queue)) === 0, { what: 'the slow worker to claim everything' });
    const rival = await startWorker(2_000);
    // Stuck for several lease lengths; the rival must not get the batch.
    const until = Date.now() + 6_000;
    await waitFor(() => Date.now() > until, { what: 'several leases to pass', timeoutMs: 20_000 });
    expect(await redis.llen(queue.keys.queue)).toBe(0);
    await lock.release();
    const s = await expectDrainedAndExact(queue, database.db);
    expect(s).toMatchObject({ received: 200, unique: plan.unique, duplicates: plan.duplicates });
    expect(slow.output()).toContain('Saved to DB');
    expect(slow.output() + rival.output()).not.toContain('Returned expired leases');
    expect(await redis.hlen(queue.keys.attempts)).toBe(0);
  }, 120_000);
});

describe('a message that kills every worker that takes it', () => {
  it('reaches MAX_ATTEMPTS by real crashes and is parked alone; its neighbours are stored', async () => {
    const ev = (id: string) => ({ topic: 'killer', event_id: id, timestamp: '2026-11-25T08:00:00Z', source: 't', payload: {} });
    // An open transaction holding the killer's key: any worker that inserts it waits there, and is killed there.
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    holder.on('error', () => undefined);
    await holder.query('BEGIN');
    await holder.query(`INSERT INTO events (topic, event_id, "timestamp", source, payload) VALUES ('killer', 'k', now(), 't', '{}')`);
    for (const [id, key] of [['n1', 'a'], ['killer', 'k'], ['n2', 'b']] as const) await queue.enqueue({ id, events: [ev(key)] }, 1e9);

    const holding = async () => {
      const claims = await redis.zrange(queue.keys.leases, '0', '-1');
      const lists = await Promise.all(claims.map((c) => redis.lrange(queue.keys.processing(c), 0, -1)));
      return lists.some((messages) => messages.some((raw) => raw.includes('|killer|')));
    };
    const env = { MAX_ATTEMPTS: '2' };
    let worker = await startWorker(2_000, env);
    for (let kill = 1; kill <= 2; kill++) {
      await waitFor(holding, { what: `worker ${kill} to take the killer` });
      await worker.kill();
      worker = await startWorker(2_000, env);
      await waitFor(async () => (await queue.attempts(['killer']))[0] === kill, { what: `the reaper to count attempt ${kill}` });
    }
    // The worker now running claims the killer alone, finds its attempts spent, and parks it.
    await waitFor(async () => (await queue.deadLetters()).length === 1, { what: 'the killer to be parked' });
    await holder.query('ROLLBACK');
    await holder.end();

    const s = await expectDrainedAndExact(queue, database.db);
    expect(s).toMatchObject({ received: 3, unique: 2, dead: 1 });
    const [letter] = await queue.deadLetters();
    expect(letter).toMatchObject({ reason: 'no acknowledgement after 2 attempts', attempts: 2, events: 1 });
    expect(letter!.raw).toContain('|killer|');
    expect(await redis.hlen(queue.keys.attempts)).toBe(0);
  }, 120_000);
});
