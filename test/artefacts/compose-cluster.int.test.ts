import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/config.ts';
import type { QueueMessage } from '../../shared/queue/message.ts';
import { queueFromConfig } from '../../shared/queue/queue.ts';
import { createRedisClient, readyWithin } from '../../shared/queue/redis.ts';
import { event } from '../../dev/harness.ts';
import { pgServer, privatePgDir, startPrivatePostgres, type PrivatePostgres } from '../../dev/private-postgres.ts';
import { startRedisCluster, type PrivateRedisCluster } from '../../dev/private-redis-cluster.ts';
import { waitFor } from '../../dev/wait.ts';
import { environmentOf, loadEnvFile, loadYaml } from './support/artefacts.ts';

// The commands of docker-compose.yml's cluster profile, with infra/compose-cluster.env, run on this
// machine: no Docker engine here, so each runs as the container would run it, with the container's host
// names swapped for this machine's ports.
const compose = loadYaml('docker-compose.yml', loadEnvFile('infra/compose-cluster.env'));
const services = compose.services as Record<string, any>;

/** Runs a compose `sh -c` command (`[sh, -c, script, $0, ...args]`) with other arguments; resolves with its exit and output. */
function runShell(command: string[], args: string[], env: Record<string, string>, asUser?: string) {
  const [shell, flag, script, name] = command as [string, string, string, string];
  const argv = [shell, flag, script, name, ...args];
  const [file, ...rest] = asUser ? ['runuser', '-u', asUser, '--', ...argv] : argv;
  const child = spawn(file!, rest, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; output: string }>((resolve) => child.once('exit', (code) => resolve({ code, output })));
  return { child, exited, output: () => output };
}

describe('the Redis Cluster of the cluster profile', () => {
  let cluster: PrivateRedisCluster;
  const create = services['redis-cluster-create'].command as string[];
  const composeAddresses = create.slice(4);
  const runCreate = async (addresses: string[]) => {
    const { code, output } = await runShell(create.slice(0, 4), addresses, {}).exited;
    if (code !== 0) throw new Error(`the create command exited with ${code}:\n${output}`);
    return output;
  };

  beforeAll(async () => {
    const [binary, ...nodeArgs] = services['redis-node-1'].command as string[];
    expect(binary).toBe('redis-server');
    cluster = await startRedisCluster({ replicas: 1, nodeArgs, create: async (addresses) => void (await runCreate(addresses)) });
  }, 90_000);
  afterAll(async () => cluster?.destroy());

  const local = () => composeAddresses.map((_, i) => `${cluster.nodes[i]!.host}:${cluster.nodes[i]!.port}`);

  it('formed three masters with a replica each, and running the create command again changes nothing', async () => {
    const replicas = await Promise.all(cluster.nodes.map(async (node) => {
      try {
        return (await cluster.replicaOf(node)).port;
      } catch {
        return null; // a replica has none
      }
    }));
    expect(replicas.filter((port) => port !== null)).toHaveLength(3);
    const before = await Promise.all(cluster.nodes.map((n) => cluster.masterOf(`{probe-${n.port}}`)));
    expect(await runCreate(local())).toContain('the cluster exists already');
    expect(await Promise.all(cluster.nodes.map((n) => cluster.masterOf(`{probe-${n.port}}`)))).toEqual(before);
  });

  it('takes the functions\' queue: its shards spread over every master', async () => {
    const byHost = new Map(composeAddresses.map((address, i) => [address, local()[i]!]));
    const env = environmentOf(services.ingest.environment);
    const nodes = env.REDIS_CLUSTER_NODES!.split(',').map((address) => byHost.get(address) ?? address).join(',');
    // The compose file's own prefix (the cluster is this test's alone): which master a shard lands on
    // follows from its hash tag, so another prefix would test another spread.
    const config = loadConfig({ ...env, REDIS_CLUSTER_NODES: nodes }, { secretsDir: null });
    const redis = createRedisClient(config, 'compose-cluster-test');
    redis.on('error', () => undefined);
    try {
      expect(await readyWithin(redis, 10_000)).toBe(true);
      const queue = queueFromConfig(redis, config);
      for (let i = 0; i < 90; i++) expect(await queue.enqueue({ id: `m${i}`, events: [event({ event_id: `e${i}` }) as QueueMessage['events'][number]] }, 1_000_000)).toBe('queued');
      expect((await queue.counters()).received).toBe(90);
      // Which master holds which shard, and how many messages each master got.
      const perMaster = new Map<number, number>();
      for (const shard of queue.shards) {
        const master = await cluster.masterOf(shard.keys.queue);
        perMaster.set(master.port, (perMaster.get(master.port) ?? 0) + (await redis.llen(shard.keys.queue)));
      }
      expect(perMaster.size).toBe(3);
      for (const messages of perMaster.values()) expect(messages).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });
});

describe('the PostgreSQL replica of the cluster profile', () => {
  const primaryCommand = services.postgres.command as string[];
  const replica = services['postgres-replica'];
  let primary: PrivatePostgres;

  beforeAll(async () => {
    // The primary with the compose file's own options, its hba file written where this machine's server can read it.
    const place = await privatePgDir('pg-hba');
    const hba = join(place.dir, 'pg_hba.conf');
    writeFileSync(hba, compose.configs['pg-hba'].content);
    expect(primaryCommand[0]).toBe('postgres');
    const serverOptions = primaryCommand.slice(1).map((arg) => (arg.startsWith('hba_file=') ? `hba_file=${hba}` : arg));
    primary = await startPrivatePostgres({ serverOptions });
    const client = new pg.Client({ connectionString: primary.url });
    await client.connect();
    await client.query(`alter user postgres password '${replica.environment.PGPASSWORD}'`);
    await client.query('create table compose_replica (id int primary key)');
    await client.end();
  }, 60_000);
  afterAll(async () => primary?.destroy());

  it('copies the primary over the replication line, with the password, then follows it read-only', async () => {
    const place = await privatePgDir('pg-replica-compose');
    const server = pgServer(place);
    const env = { ...environmentOf(replica.environment), PGHOST: '127.0.0.1', PGPORT: String(primary.port), PGDATA: place.data };
    const asUser = process.getuid?.() === 0 ? 'postgres' : undefined;
    const serverArgs = ['-p', String(place.port), '-k', place.dir, '-c', 'listen_addresses=127.0.0.1'];
    // The data folder as the image's volume starts: empty, the postgres user's, mode 1777 (which the server refuses).
    expect((await runShell(['sh', '-c', 'install -d -m 1777 "$1"', 'volume'], [place.data], {}, asUser).exited).code).toBe(0);
    // The replication line wants the password: without it, no copy.
    const refused = await runShell(replica.command, serverArgs, { ...env, PGPASSWORD: 'wrong' }, asUser).exited;
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/password authentication failed/);

    const run = runShell(replica.command, serverArgs, env, asUser);
    try {
      const replicaUrl = `postgres://postgres@127.0.0.1:${place.port}/postgres`;
      const query = async (url: string, text: string) => {
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
        await client.connect();
        try {
          return (await client.query(text)).rows;
        } finally {
          await client.end();
        }
      };
      // A server that exits (a refused data folder, say) fails the test at once, with what it said.
      const died = run.exited.then(({ code, output }) => Promise.reject(new Error(`the replica exited with ${code}:\n${output}`)));
      await Promise.race([
        waitFor(() => query(replicaUrl, 'select pg_is_in_recovery() as standby').then((rows) => rows[0].standby === true), {
          timeoutMs: 60_000, what: 'the replica to answer as a standby',
        }),
        died,
      ]);
      await query(primary.url, 'insert into compose_replica values (1)');
      await waitFor(() => query(replicaUrl, 'select count(*)::int as n from compose_replica').then((rows) => rows[0].n === 1), {
        timeoutMs: 30_000, what: 'a row written on the primary to reach the replica',
      });
      await expect(query(replicaUrl, 'insert into compose_replica values (2)')).rejects.toThrow(/read-only/);
    } finally {
      await server.destroy();
      await run.exited;
    }
  }, 120_000);
});
