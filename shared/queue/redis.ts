import { Cluster, Redis } from 'ioredis';
import type { Config } from '../config/config.ts';
import { redactUrl } from '../config/redact-url.ts';
import { GATHERED_SCRIPTS } from './queue-shard.ts';

/** What the queue runs on: one Redis, or a Redis Cluster (every queue key shares one hash tag, so one slot). */
export type RedisClient = Redis | Cluster;

/**
 * A Redis client that fails fast while Redis is down (no offline queue), so
 * ingest answers 503 at once instead of holding requests, and reconnects by itself.
 * A command whose connection drops before its reply is rejected, never sent
 * again: a queue script may already have run, and running it twice would
 * enqueue or claim twice. The callers' recovery (a 503, a lease that runs out)
 * copes with "maybe ran"; nothing copes with "ran twice".
 * Auto-pipelining sends the commands of concurrent requests in one socket write a tick:
 * under load of one-event requests, ingest's Redis writes were its largest cost after the
 * HTTP answers (profiled under `npm start`); a lone command waits one tick, no more.
 * The enqueue script is left out: QueueShard gathers a turn's enqueues into one call itself.
 *
 * @example const redis = createRedis(config.redisUrl, 'ingest')
 */
export function createRedis(url: string, connectionName: string): Redis {
  return new Redis(url, {
    connectionName,
    enableAutoPipelining: true,
    autoPipeliningIgnoredCommands: GATHERED_SCRIPTS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  });
}

/**
 * A Redis Cluster client with createRedis's safety. ioredis follows MOVED, ASK,
 * TRYAGAIN and CLUSTERDOWN by itself, which is safe: a node that answers so did
 * not run the command. But by default it also sends again, 100 ms later, a
 * command whose node connection closed before the reply (`retryDelayOnFailover`),
 * and that command may have run: 0 turns that off, so it is rejected as with createRedis.
 *
 * @example const cluster = createRedisCluster([{ host: 'redis-0', port: 6379 }], 'ingest')
 */
export function createRedisCluster(nodes: Config['redisClusterNodes'], connectionName: string, password?: string): Cluster {
  const cluster = new Cluster(nodes.map((n) => ({ ...n })), {
    enableOfflineQueue: false,
    retryDelayOnFailover: 0,
    clusterRetryStrategy: (times) => Math.min(times * 100, 2_000),
    redisOptions: {
      connectionName, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, connectTimeout: 2_000,
      ...(password === undefined ? {} : { password }),
    },
  });
  // ioredis opens a node's connection at its first command; without an offline queue, a second command
  // for that node while it connects is refused ("Connection is closed"). So: open them all once the
  // cluster is known, before requests that read several slots at once (queue shards) arrive.
  cluster.on('ready', () => connectNodes(cluster));
  return cluster;
}

/** Opens the connection of every node not yet asked for anything: the client knows them all once ready. */
function connectNodes(cluster: Cluster): Redis[] {
  const nodes = cluster.nodes('all');
  for (const node of nodes) if (node.status === 'wait') node.connect().catch(() => undefined);
  return nodes;
}

/**
 * The client the config names: a cluster client with REDIS_CLUSTER_NODES, else one for REDIS_URL.
 *
 * @example const redis = createRedisClient(config, 'stats')
 */
export function createRedisClient(config: Pick<Config, 'redisUrl' | 'redisClusterNodes' | 'redisPassword'>, connectionName: string): RedisClient {
  return config.redisClusterNodes.length > 0
    ? createRedisCluster(config.redisClusterNodes, connectionName, config.redisPassword)
    : createRedis(config.redisUrl, connectionName);
}

/** Where the client connects, for logs: the URL, or the cluster's nodes. */
export function redisTarget(config: Pick<Config, 'redisUrl' | 'redisClusterNodes'>): string {
  return config.redisClusterNodes.length > 0 ? `cluster ${config.redisClusterNodes.map((n) => `${n.host}:${n.port}`).join(',')}` : redactUrl(config.redisUrl);
}

/**
 * A second connection with the same settings (no offline queue, no resend) under its own connection name,
 * for a subscriber: a connection in subscribe mode can send nothing else.
 */
export function duplicateClient(client: RedisClient, suffix: string): RedisClient {
  if (client instanceof Cluster) {
    const name = client.options.redisOptions?.connectionName ?? 'aggregator';
    return client.duplicate([], { redisOptions: { connectionName: `${name}-${suffix}` } });
  }
  return client.duplicate({ connectionName: `${client.options.connectionName ?? 'aggregator'}-${suffix}` });
}

/**
 * Resolves once the client is ready, or after `ms` (the caller goes on either way; readiness tells).
 * A cluster client is ready once its every node's connection is (see createRedisCluster).
 */
export async function readyWithin(redis: RedisClient, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  if (!(await clientReadyWithin(redis, ms))) return false;
  if (!(redis instanceof Cluster)) return true;
  const nodes = await Promise.all(connectNodes(redis).map((node) => clientReadyWithin(node, deadline - Date.now())));
  return nodes.every(Boolean);
}

function clientReadyWithin(redis: RedisClient, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), ms);
    const onReady = () => done(true);
    function done(ok: boolean) {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    }
    redis.once('ready', onReady);
  });
}
