import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedCounts, planRun, type Plan } from '../../loadtest/lib/events.js';
import { loadConfig } from '../../shared/config/config.ts';
import { countEvents } from '../../shared/db/event.repository.ts';
import { queueFromConfig } from '../../shared/queue/queue.ts';
import { queueKeys, shardPrefix } from '../../shared/queue/queue-keys.ts';
import { createRedisCluster, readyWithin } from '../../shared/queue/redis.ts';
import { event, postJson } from '../../dev/harness.ts';
import { expectDrainedAndExact } from '../support/invariant.ts';
import { startRedisCluster, type PrivateRedisCluster } from '../../dev/private-redis-cluster.ts';
import { startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { publishPlan } from '../support/publisher.ts';
import { createTestDatabase, type TestDatabase } from '../../dev/services.ts';

// QUEUE_SHARDS=3 on a Redis Cluster of three masters: the shards' hash tags fall on more than one master,
// so the queue's work is spread over them, and the counters added up over the shards stay exact.
const run = promisify(execFile);
let cluster: PrivateRedisCluster;
let database: TestDatabase;
let functions: FunctionProcess[] = [];

beforeAll(async () => {
  [cluster, database] = await Promise.all([startRedisCluster(), createTestDatabase('sharded_cluster')]);
}, 60_000);
afterAll(async () => {
  await Promise.all(functions.map((f) => f.kill()));
  await Promise.all([cluster?.destroy(), database?.drop()]);
});

const start = async (env: Record<string, string>) =>
  (functions = await Promise.all(['ingest', 'process', 'stats'].map((name) => startFunction(`functions/${name}/server.ts`, env))));
const stop = async () => {
  await Promise.all(functions.map((f) => f.kill()));
  functions = [];
};

/** A prefix whose three shards do not all hash to one master (most do not; the test must not depend on luck). */
async function prefixOnSeveralMasters(): Promise<string> {
  for (;;) {
    const prefix = `shards-${randomBytes(4).toString('hex')}`;
    const queues = [0, 1, 2].map((shard) => queueKeys(shardPrefix(prefix, shard)).queue);
    const masters = new Set(await Promise.all(queues.map(async (key) => (await cluster.masterOf(key)).port)));
    if (masters.size > 1) return prefix;
  }
}

const stats = async (url: string) => (await (await fetch(`${url}/stats`)).json()) as Record<string, number>;

describe('QUEUE_SHARDS=3 on a Redis Cluster of three masters', () => {
  it('stores 20,000 events with 30% duplicates exactly, through shards on more than one master; lowered to 1 with QUEUE_SHARDS_DRAIN=3, loses nothing', async () => {
    const prefix = await prefixOnSeveralMasters();
    const env = { DATABASE_URL: database.url, REDIS_CLUSTER_NODES: cluster.nodesEnv, REDIS_URL: 'redis://127.0.0.1:1', QUEUE_PREFIX: prefix, QUEUE_SHARDS: '3' };
    const redis = createRedisCluster(cluster.nodes.map((n) => ({ host: n.host, port: n.port })), 'sharded-test');
    redis.on('error', () => undefined);
    try {
      expect(await readyWithin(redis, 10_000)).toBe(true);
      const queue = queueFromConfig(redis, loadConfig(env));
      const [ingest, , statsFunction] = await start(env);

      const plan = planRun({ total: 20_000, duplicateRatio: 0.3, seed: 1603, topics: ['orders', 'payments', 'clicks'] });
      const expected = expectedCounts(plan);
      await publishPlan(`${ingest!.url}/publish`, plan, { batch: 50, concurrency: 8 });
      const s = await expectDrainedAndExact(queue, database.db, 180_000);
      expect(s).toMatchObject({ received: 20_000, unique: expected.unique, duplicates: expected.duplicates, dead: 0 });
      // ?wait=true: the outcome of a message in any shard reaches its publisher (past the backlog, within WAIT_TIMEOUT_MS).
      const waited = await postJson({ request: (path, init) => fetch(`${ingest!.url}${path}`, init) }, '/publish?wait=true', [event({ event_id: 'waited' }), event({ event_id: 'waited' })]);
      expect(await waited.json()).toMatchObject({ stored: 1, duplicates: 1 });
      const answer = await stats(statsFunction!.url);
      if ('error' in answer) throw new Error(statsFunction!.output().slice(-3000));
      expect(answer).toMatchObject({ received: 20_002, pending: 0, unique_processed: expected.unique + 1 });

      // Every shard took messages, and the shards' counters live on more than one master.
      const received = await Promise.all(queue.shards.map(async (shard) => ({ master: (await cluster.masterOf(shard.keys.counters)).port, received: (await shard.counters()).received })));
      expect(received.every((r) => r.received > 1_000)).toBe(true);
      expect(new Set(received.map((r) => r.master)).size).toBeGreaterThan(1);

      // Lowering QUEUE_SHARDS on a running system: events queued on three shards while nothing processes...
      await functions[1]!.kill();
      const later: Plan = planRun({ total: 2_000, duplicateRatio: 0.3, seed: 1604, topics: ['later'] });
      await publishPlan(`${ingest!.url}/publish`, later, { batch: 50, concurrency: 4 });
      expect((await queue.counters()).pending).toBe(2_000);
      expect((await Promise.all(queue.shards.map((shard) => shard.depth()))).every((d) => d.queuedMessages > 0)).toBe(true);
      // ...then every function restarted with one shard, still reading the other two until they are empty.
      await stop();
      const [ingest1] = await start({ ...env, QUEUE_SHARDS: '1', QUEUE_SHARDS_DRAIN: '3' });
      await publishPlan(`${ingest1!.url}/publish`, planRun({ total: 100, duplicateRatio: 0, seed: 1605, topics: ['after'] }), { batch: 50, concurrency: 1 });
      const after = await expectDrainedAndExact(queue, database.db, 60_000);
      expect(after).toMatchObject({ received: 22_102, unique: expected.unique + 1 + expectedCounts(later).unique + 100, dead: 0 });

      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/dlq.ts', 'list'], { env: { ...process.env, ...env } });
      expect(stdout).toContain('0 dead letters');
    } finally {
      redis.disconnect();
    }
  }, 300_000);
});
