import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestApp } from '../../functions/ingest/app.ts';
import { loadConfig } from '../../shared/config/config.ts';
import { countEvents } from '../../shared/db/event.repository.ts';
import { createMetrics } from '../../shared/metrics/metrics.ts';
import { decodeMessage } from '../../shared/queue/message.ts';
import { EventQueue } from '../../shared/queue/queue.ts';
import { createRedisCluster, readyWithin } from '../../shared/queue/redis.ts';
import { readinessOf } from '../../shared/runtime/readiness.ts';
import { event, postJson } from '../../dev/harness.ts';
import { startRedisCluster, type PrivateRedisCluster } from '../../dev/private-redis-cluster.ts';
import { startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { createTestDatabase, type TestDatabase } from '../../dev/services.ts';
import { waitFor } from '../../dev/wait.ts';

// REDIS_MIN_REPLICAS_ACK on a Redis Cluster with one replica per master: a 202 means the replica has the
// message, so the replica that takes over from a crashed master has every acknowledged event.

const prefix = () => `ack-${randomBytes(4).toString('hex')}`;
const clusterClient = (cluster: PrivateRedisCluster) => {
  const client = createRedisCluster(cluster.nodes.map((n) => ({ host: n.host, port: n.port })), 'replica-ack-test');
  client.on('error', () => undefined);
  return client;
};

describe('what REDIS_MIN_REPLICAS_ACK buys, with a replica that falls behind and then takes over', () => {
  let cluster: PrivateRedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ replicas: 1 });
  }, 60_000);
  afterAll(async () => cluster?.destroy());

  it('1: no 202 until the replica has it (503 instead); 0: a 202 the promoted replica never had', async () => {
    const redis = clusterClient(cluster);
    const queuePrefix = prefix();
    const queue = new EventQueue(redis, queuePrefix);
    const deps = { queue, logger: pino({ level: 'silent' }), metrics: createMetrics(), readiness: readinessOf({ redis }) };
    const ingest = (minReplicas: string) => createIngestApp({
      ...deps, config: loadConfig({ QUEUE_PREFIX: queuePrefix, REDIS_MIN_REPLICAS_ACK: minReplicas, REDIS_REPLICA_ACK_TIMEOUT_MS: '300' }, { secretsDir: null }),
    });
    const [confirming, trusting] = [ingest('1'), ingest('0')];
    try {
      expect(await readyWithin(redis, 10_000)).toBe(true);
      expect((await postJson(confirming, '/publish', event({ event_id: 'replicated' }))).status).toBe(202);

      // The replica hangs and its replication link is cut: it will not hear of the next writes.
      // (SIGSTOP alone is not enough: the kernel would keep the stream for it meanwhile.)
      const master = await cluster.masterOf(queue.keys.queue);
      const replica = await cluster.replicaOf(master);
      replica.pause();
      const admin = new Redis({ host: master.host, port: master.port });
      await admin.call('CLIENT', 'KILL', 'TYPE', 'replica').finally(() => admin.disconnect());
      const refused = await postJson(confirming, '/publish', event({ event_id: 'unconfirmed' }));
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(await refused.json()).toMatchObject({ error: 'unavailable', dependency: 'redis' });
      expect((await postJson(trusting, '/publish', event({ event_id: 'trusted' }))).status).toBe(202);

      // The master crashes before the replica copied the last writes; the replica takes over.
      await cluster.failover(queue.keys.queue, { afterKill: () => replica.resume() });
      const ids = await waitFor(async () => {
        const raw = await redis.lrange(queue.keys.queue, 0, -1);
        return raw.map((m) => {
          const decoded = decodeMessage(m);
          if (!decoded.ok) throw new Error(decoded.reason);
          return decoded.message.events[0]!.event_id;
        });
      }, { timeoutMs: 15_000, what: 'the client to read from the promoted replica' });
      expect(ids).toContain('replicated');
      expect(ids).not.toContain('trusted'); // answered 202 with REDIS_MIN_REPLICAS_ACK=0, and lost
      // The promoted master has no replica left: with 1, ingest refuses rather than accept unprotected.
      expect((await postJson(confirming, '/publish', event({ event_id: 'alone' }))).status).toBe(503);
    } finally {
      redis.disconnect();
    }
  });
});

describe('a master SIGKILLed under load with REDIS_MIN_REPLICAS_ACK=1', () => {
  let cluster: PrivateRedisCluster;
  let database: TestDatabase;
  let functions: FunctionProcess[] = [];
  const queuePrefix = prefix();

  beforeAll(async () => {
    [cluster, database] = await Promise.all([startRedisCluster({ replicas: 1 }), createTestDatabase('replica_ack')]);
    const env = { DATABASE_URL: database.url, REDIS_CLUSTER_NODES: cluster.nodesEnv, QUEUE_PREFIX: queuePrefix, REDIS_MIN_REPLICAS_ACK: '1', QUEUE_LEASE_MS: '2000' };
    functions = await Promise.all(['ingest', 'process', 'stats'].map((name) => startFunction(`functions/${name}/server.ts`, env)));
  }, 90_000);
  afterAll(async () => {
    await Promise.all(functions.map((f) => f.kill()));
    await database?.drop();
    await cluster?.destroy();
  });

  it('loses nothing answered 202, and the counters stay exact', async () => {
    const [ingest, , stats] = functions as [FunctionProcess, FunctionProcess, FunctionProcess];
    const accepted = new Set<string>();
    const answers: Record<string, number> = {};
    // Every answer other than 202, as status, Retry-After and body: while the slot moves to the replica,
    // ioredis rejects commands ("Connection is closed"), and ingest must say 503, not 500 or a bare error.
    const refusals = new Set<string>();
    let stop = false;
    // Eight publishers, each request five new events, until told to stop.
    const publishers = Array.from({ length: 8 }, async (_, p) => {
      for (let n = 0; !stop; n++) {
        const ids = Array.from({ length: 5 }, (_, i) => `p${p}-${n}-${i}`);
        const status = await fetch(`${ingest.url}/publish`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify(ids.map((id) => event({ topic: 'failover', event_id: id }))),
        }).then(async (r) => {
          if (r.status !== 202) {
            const { error, dependency } = (await r.json().catch(() => ({}))) as Record<string, unknown>;
            refusals.add(JSON.stringify({ status: r.status, retryAfter: r.headers.get('retry-after'), error, dependency }));
          }
          return r.status;
        }, () => 0);
        answers[status] = (answers[status] ?? 0) + 1;
        if (status === 202) for (const id of ids) accepted.add(id);
      }
    });
    await waitFor(() => accepted.size >= 1_000, { timeoutMs: 60_000, what: '1,000 events accepted before the crash' });
    const acceptedBeforeCrash = accepted.size;
    const { killed, promoted } = await cluster.failover(`{${queuePrefix}}:queue`);
    stop = true;
    await Promise.all(publishers);
    console.log(`replica ack: master ${killed.port} killed after ${acceptedBeforeCrash} events accepted; ${promoted.port} took over; answers ${JSON.stringify(answers)}`);
    expect(Object.keys(answers).filter((status) => status !== '202' && status !== '503')).toEqual([]);
    expect([...refusals]).toEqual([JSON.stringify({ status: 503, retryAfter: '1', error: 'unavailable', dependency: 'redis' })]);

    const quiet = await waitFor(async () => {
      const s = (await (await fetch(`${stats.url}/stats`)).json()) as Record<string, number>;
      return s.pending === 0 && s.received === s.unique_processed! + s.duplicate_dropped! + s.dead_lettered! ? s : null;
    }, { timeoutMs: 90_000, what: 'the queue drained on the promoted master' });
    const stored = await sql<{ event_id: string }>`select event_id from events where topic = 'failover'`.execute(database.db);
    const storedIds = new Set(stored.rows.map((r) => r.event_id));
    const lost = [...accepted].filter((id) => !storedIds.has(id));
    expect(lost).toEqual([]);
    expect(quiet.unique_processed).toBe(await countEvents(database.db));
    expect(quiet.dead_lettered).toBe(0);
  }, 180_000);
});
