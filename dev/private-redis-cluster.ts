import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './processes.ts';
import { waitFor } from './wait.ts';

const run = promisify(execFile);

/** One redis-server of a test cluster. */
export type ClusterNode = {
  host: '127.0.0.1';
  port: number;
  /** SIGKILL, as a crash: the node's replica (if any) is promoted once the others notice. */
  kill: () => Promise<void>;
  /** SIGSTOP / SIGCONT: a node that hangs (a replica that falls behind), then goes on. */
  pause: () => void;
  resume: () => void;
};

/** Asks one node a question with a short-lived client; null when it does not answer. */
async function ask(port: number, password: string | undefined, ...command: [string, ...string[]]): Promise<string | null> {
  // A node that hangs (SIGSTOP) accepts the connection but never answers: the command times out.
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000, commandTimeout: 1_000, ...(password ? { password } : {}) });
  client.on('error', () => undefined); // a node that is starting or gone: the caller polls again
  try {
    await client.connect();
    return String(await client.call(...command));
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}

/** The nodes' settings by default: AOF as production runs it, and quick failovers. */
const FAST_FAILOVER_NODE = [
  '--cluster-enabled', 'yes', '--cluster-node-timeout', '1000',
  // A replica may take over however long it was cut off: the test wants the failover, not a stuck cluster.
  '--cluster-replica-validity-factor', '0',
  '--save', '', '--appendonly', 'yes', '--appendfsync', 'always',
];

/** Joins the nodes, given as `host:port`, into a cluster with `replicas` replicas per master. */
type CreateCluster = (addresses: string[], replicas: number) => Promise<void>;

const createWithRedisCli = (password: string | undefined): CreateCluster => async (addresses, replicas) => {
  await run('redis-cli', [...(password ? ['-a', password, '--no-auth-warning'] : []), '--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes']);
};

/**
 * A Redis Cluster of the test's own: 3 masters (each with `replicas` replicas),
 * `redis-server --cluster-enabled yes` on free loopback ports, joined with
 * `redis-cli --cluster create`, ready once every node says `cluster_state:ok`
 * (and every replica has its link to its master up). AOF with `appendfsync
 * always`, as production runs it; a node timeout of 1 s, so a killed master's
 * replica takes over within seconds. With `password`, every node wants it (AUTH).
 * `nodeArgs` replaces those settings (a deployment's own node command, say: the
 * port, bus port, address and files are added after it, so they win), and
 * `create` replaces the redis-cli step (a deployment's own create command).
 *
 * @example const c = await startRedisCluster({ replicas: 1 }); process.env.REDIS_CLUSTER_NODES = c.nodesEnv
 */
export async function startRedisCluster(options: { replicas?: 0 | 1; password?: string; nodeArgs?: string[]; create?: CreateCluster } = {}) {
  const replicas = options.replicas ?? 0;
  const { password } = options;
  const auth = password ? ['--requirepass', password, '--masterauth', password] : [];
  const dir = mkdtempSync(join(tmpdir(), 'agg-redis-cluster-'));
  const children: ChildProcess[] = [];

  async function startNode(): Promise<ClusterNode> {
    // The bus port is given, not left at port + 10000, which can pass 65535 for an ephemeral port.
    const [port, busPort] = [await freePort(), await freePort()];
    const child = spawn('redis-server', [
      ...(options.nodeArgs ?? FAST_FAILOVER_NODE), ...auth,
      '--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1',
      '--cluster-config-file', `nodes-${port}.conf`,
      '--dir', dir, '--dbfilename', `dump-${port}.rdb`, '--appendfilename', `aof-${port}`,
    ], { stdio: 'ignore' });
    children.push(child);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await waitFor(async () => (await ask(port, password, 'ping')) === 'PONG', { timeoutMs: 15_000, what: `cluster node on ${port}` });
    return {
      host: '127.0.0.1',
      port,
      kill: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGKILL');
        await exited;
      },
      pause: () => child.kill('SIGSTOP'),
      resume: () => child.kill('SIGCONT'),
    };
  }

  const nodes: ClusterNode[] = [];
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) nodes.push(await startNode());
    const addresses = nodes.map((n) => `${n.host}:${n.port}`);
    await (options.create ?? createWithRedisCli(password))(addresses, replicas);
    await waitFor(async () => {
      for (const node of nodes) {
        if (!(await ask(node.port, password, 'cluster', 'info'))?.includes('cluster_state:ok')) return false;
        const replication = (await ask(node.port, password, 'info', 'replication')) ?? '';
        if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false;
      }
      return true;
    }, { timeoutMs: 30_000, what: 'cluster_state:ok on every node' });
  } catch (error) {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  /** The node that is master of `key`'s slot now, as the live nodes say (a failed master is not one). */
  async function masterOf(key: string): Promise<ClusterNode> {
    for (const node of nodes) {
      const slot = await ask(node.port, password, 'cluster', 'keyslot', key);
      if (slot === null) continue;
      const owner = (await ask(node.port, password, 'cluster', 'nodes'))?.split('\n').find((line) => {
        const [, , flags = '', , , , , , ...ranges] = line.split(' ');
        return flags.includes('master') && !flags.includes('fail') && ranges.some((range) => {
          const [from, to = from] = range.split('-').map(Number);
          return Number(slot) >= from! && Number(slot) <= to!;
        });
      });
      const port = Number(owner?.split(' ')[1]?.split(':')[1]?.split('@')[0]);
      const found = nodes.find((n) => n.port === port);
      if (found) return found;
    }
    throw new Error(`no live node names the master of ${key}`);
  }

  /** The replica that follows `master`, as the replicas say. */
  async function replicaOf(master: ClusterNode): Promise<ClusterNode> {
    for (const node of nodes) {
      const replication = (await ask(node.port, password, 'info', 'replication')) ?? '';
      if (replication.includes('role:slave') && replication.includes(`master_port:${master.port}\r\n`)) return node;
    }
    throw new Error(`no replica follows the master on ${master.port}`);
  }

  return {
    nodes,
    replicaOf,
    /** The value of REDIS_CLUSTER_NODES for this cluster. */
    nodesEnv: nodes.map((n) => `${n.host}:${n.port}`).join(','),
    masterOf,
    /**
     * SIGKILLs the master of `key`'s slot (then runs `afterKill`) and waits, up to
     * `timeoutMs`, until its replica has taken over and every live node says
     * `cluster_state:ok` again.
     */
    failover: async (key: string, options: { afterKill?: () => void; timeoutMs?: number } = {}) => {
      const old = await masterOf(key);
      await old.kill();
      options.afterKill?.();
      const promoted = await waitFor(async () => {
        const now = await masterOf(key);
        if (now.port === old.port) return null;
        const answers = await Promise.all(nodes.filter((n) => n !== old).map((n) => ask(n.port, password, 'cluster', 'info')));
        return answers.every((a) => a?.includes('cluster_state:ok')) ? now : null;
      }, { timeoutMs: options.timeoutMs ?? 30_000, what: `a replica to take over from the master on ${old.port}` });
      return { killed: old, promoted };
    },
    destroy: async () => {
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type PrivateRedisCluster = Awaited<ReturnType<typeof startRedisCluster>>;
