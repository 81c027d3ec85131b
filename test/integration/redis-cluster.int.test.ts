import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedCounts, planRun } from '../../loadtest/lib/events.js';
import { countEvents } from '../../shared/db/event.repository.ts';
import type { QueueMessage } from '../../shared/queue/message.ts';
import { EventQueue } from '../../shared/queue/queue.ts';
import { createRedisCluster, readyWithin } from '../../shared/queue/redis.ts';
import { event, postJson } from '../../dev/harness.ts';
import { startRedisCluster, type PrivateRedisCluster } from '../../dev/private-redis-cluster.ts';
import { startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { publishPlan } from '../support/publisher.ts';
import { createTestDatabase, type TestDatabase } from '../../dev/services.ts';
import { waitFor } from '../../dev/wait.ts';

// The queue and the functions on a Redis Cluster of three masters that want a password. Every queue key
// carries the one hash tag `{prefix}`, so each Lua script touches one slot, on one master: the scripts run unchanged.
const run = promisify(execFile);
const PASSWORD = 'cluster-secret';
let cluster: PrivateRedisCluster;
const clusterClient = (name: string) => {
  const client = createRedisCluster(cluster.nodes.map((n) => ({ host: n.host, port: n.port })), name, PASSWORD);
  client.on('error', () => undefined);
  return client;
};

beforeAll(async () => {
  cluster = await startRedisCluster({ password: PASSWORD });
}, 60_000);
afterAll(async () => cluster?.destroy());

const ev = (id: string) => event({ topic: 'cluster', event_id: id }) as QueueMessage['events'][number];

describe('the queue on a Redis Cluster', () => {
  it('enqueues, claims, acknowledges, parks, reaps and replays, all keys on the one master of its slot', async () => {
    const redis = clusterClient('queue-test');
    try {
      // No offline queue: a command before the client knows the slots is refused, not held.
      expect(await readyWithin(redis, 10_000)).toBe(true);
      const queue = new EventQueue(redis, `cluster-${randomBytes(4).toString('hex')}`);
      expect(await queue.enqueue({ id: 'good', events: [ev('a'), ev('b')] }, 100)).toBe('queued');
      expect(await queue.enqueue({ id: 'bad', events: [ev('c')] }, 100)).toBe('queued');
      expect(await queue.enqueue({ id: 'late', events: [ev('d')] }, 100)).toBe('queued');
      expect(await queue.enqueue({ id: 'over', events: [ev('e')] }, 4)).toBe('full');

      const batch = (await queue.claim({ maxMessages: 2, maxEvents: 100, leaseMs: 10_000 }))!;
      expect(batch.messages).toHaveLength(2);
      const dead = { raw: batch.messages[1]!, reason: 'refused', attempts: 1, events: 1 };
      expect(await queue.ack(batch.claimId, { events: 3, deadLetters: [dead], messageIds: ['good', 'bad'] })).toBe(true);

      // A lease that runs out: the batch goes back to the queue and counts an attempt.
      const leased = (await queue.claim({ maxMessages: 1, maxEvents: 100, leaseMs: 1 }))!;
      await waitFor(async () => (await queue.reapExpired()) === 1, { timeoutMs: 5_000, what: 'the expired lease reaped' });
      expect(await queue.attempts(['late'])).toEqual([1]);
      expect(await queue.extend(leased.claimId, 1_000)).toBe(false);

      const [parked] = await queue.deadLetters();
      expect(parked).toMatchObject({ reason: 'refused', events: 1 });
      expect(await queue.replay(parked!)).toBe(true);
      expect(await queue.counters()).toEqual({ received: 4, pending: 2, deadLettered: 0 });
      expect(await queue.depth()).toEqual({ queuedMessages: 2, batchesInFlight: 0 });

      // Every key of the queue lives on the master that owns the hash tag's slot.
      const owner = await cluster.masterOf(queue.keys.queue);
      for (const key of [queue.keys.counters, queue.keys.attempts, queue.keys.processing(leased.claimId)]) {
        expect((await cluster.masterOf(key)).port).toBe(owner.port);
      }
    } finally {
      redis.disconnect();
    }
  });
});

describe('the cluster client never sends a command twice', () => {
  it('rejects a command whose node connection drops before the reply, instead of resending it to the slot', async () => {
    const redis = clusterClient('resend-test');
    const queue = new EventQueue(redis, `resend-${randomBytes(4).toString('hex')}`);
    const master = await cluster.masterOf(queue.keys.queue);
    const admin = new Redis({ host: master.host, port: master.port, password: PASSWORD });
    try {
      expect(await readyWithin(redis, 10_000)).toBe(true);
      await queue.counters(); // the scripts' connection to the master is open
      // Writes pause on the master: the enqueue arrives and waits there; then its connection is cut.
      await admin.call('CLIENT', 'PAUSE', '10000', 'WRITE');
      const enqueued = queue.enqueue({ id: 'once', events: [ev('once')] }, 100).then((r) => r, (e: Error) => e);
      const blocked = await waitFor(async () => {
        const clients = String(await admin.call('CLIENT', 'LIST')).split('\n');
        return clients.find((line) => line.includes('name=resend-test') && / flags=\S*b/.test(line));
      }, { timeoutMs: 5_000, what: 'the enqueue waiting on the paused master' });
      await admin.call('CLIENT', 'KILL', 'ID', /\bid=(\d+)/.exec(blocked)![1]!);
      // ioredis cannot know whether a cut command ran: it must fail, not run again on a new connection.
      expect(await enqueued).toBeInstanceOf(Error);
      await admin.call('CLIENT', 'UNPAUSE');
      expect(await admin.llen(queue.keys.queue)).toBe(0);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      admin.disconnect();
      redis.disconnect();
    }
  });
});

describe('the functions on a Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  let database: TestDatabase;
  let functions: FunctionProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase('redis_cluster');
    // REDIS_URL names nothing that answers: everything must go through the cluster.
    env = { DATABASE_URL: database.url, REDIS_CLUSTER_NODES: cluster.nodesEnv, REDIS_PASSWORD: PASSWORD, REDIS_URL: 'redis://127.0.0.1:1', QUEUE_PREFIX: `pipe-${randomBytes(4).toString('hex')}` };
    functions = await Promise.all(['ingest', 'process', 'stats'].map((name) => startFunction(`functions/${name}/server.ts`, env)));
  }, 90_000);
  afterAll(async () => {
    await Promise.all(functions.map((f) => f.kill()));
    await database?.drop();
  });

  it('stores 2,000 events with 30% duplicates exactly, answers ?wait=true, and the dlq tool reaches the cluster', async () => {
    const [ingest, , stats] = functions as [FunctionProcess, FunctionProcess, FunctionProcess];
    expect((await fetch(`${ingest.url}/readyz`)).status).toBe(200);
    const plan = planRun({ total: 2_000, duplicateRatio: 0.3, seed: 16, topics: ['orders', 'payments'] });
    const expected = expectedCounts(plan);
    await publishPlan(`${ingest.url}/publish`, plan, { batch: 25, concurrency: 8 });

    // The outcome comes back over pub/sub on the cluster.
    const waited = await postJson({ request: (path, init) => fetch(`${ingest.url}${path}`, init) }, '/publish?wait=true', [event({ event_id: 'waited' }), event({ event_id: 'waited' })]);
    expect(waited.status).toBe(200);
    expect(await waited.json()).toMatchObject({ stored: 1, duplicates: 1 });

    const final = await waitFor(async () => {
      const s = (await (await fetch(`${stats.url}/stats`)).json()) as Record<string, number>;
      return s.pending === 0 && s.received === plan.total + 2 ? s : null;
    }, { timeoutMs: 60_000, what: 'every event processed' });
    expect(final).toMatchObject({ received: 2_002, unique_processed: expected.unique + 1, duplicate_dropped: expected.duplicates + 1, dead_lettered: 0 });
    expect(await countEvents(database.db)).toBe(expected.unique + 1);

    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/dlq.ts', 'list'], { env: { ...process.env, ...env } });
    expect(stdout).toContain('0 dead letters');
    expect(stderr).toBe('');
  });
});
