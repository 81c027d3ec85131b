import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';

const int = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.regex(/^\d+$/, 'must be a whole number'),
      v.transform(Number),
      v.minValue(min, `must be at least ${min}`),
      v.maxValue(max, `must be at most ${max}`),
    ),
    String(fallback),
  );

const urlOf = (schemes: string[]) =>
  v.pipe(
    v.string(),
    v.trim(),
    v.check((s) => URL.canParse(s) && schemes.includes(new URL(s).protocol), `must be a ${schemes.join(' or ')} URL`),
  );
const url = (fallback: string, schemes: string[]) => v.optional(urlOf(schemes), fallback);

// Keys are separated by commas or whitespace, so a secret file may hold one key a line.
const splitKeys = (s: string) => s.split(/[\s,]+/).filter((k) => k.length > 0);
const keyList = v.optional(v.pipe(v.string(), v.transform(splitKeys)), '');

// `host:port,host:port`: the nodes a cluster client first asks for the cluster's layout.
const clusterNodes = v.optional(
  v.pipe(
    v.string(),
    v.transform((s) => s.split(/[\s,]+/).filter((n) => n.length > 0)),
    v.check((list) => list.every((n) => /^[^\s:/]+:\d{1,5}$/.test(n) && Number(n.split(':')[1]) <= 65535), 'must be host:port,host:port,...'),
    v.transform((list) => list.map((n) => ({ host: n.slice(0, n.lastIndexOf(':')), port: Number(n.slice(n.lastIndexOf(':') + 1)) }))),
  ),
  '',
);

const EnvSchema = v.object({
  // Loopback unless told otherwise: a laptop's `npm start` is not reachable from the network by accident.
  HOST: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1)), '127.0.0.1'),
  PORT: int(8080, 0, 65535),
  REDIS_URL: url('redis://127.0.0.1:6379', ['redis:', 'rediss:']),
  DATABASE_URL: url('postgres://postgres@127.0.0.1:5432/postgres', ['postgres:', 'postgresql:']),
  // Set: Redis is a cluster, reached through these nodes, and REDIS_URL is not used.
  REDIS_CLUSTER_NODES: clusterNodes,
  // The cluster's password (AUTH); a REDIS_URL carries its own. A secret: also REDIS_PASSWORD_FILE.
  REDIS_PASSWORD: v.optional(v.string()),
  // How many replicas must have a message before ingest answers 202 (Redis WAIT); 0: the master's word is enough.
  REDIS_MIN_REPLICAS_ACK: int(0, 0, 16),
  REDIS_REPLICA_ACK_TIMEOUT_MS: int(1_000, 1, 60_000),
  // Where GET /events reads (a streaming replica); unset: DATABASE_URL.
  DATABASE_READ_URL: v.optional(urlOf(['postgres:', 'postgresql:'])),
  QUEUE_PREFIX: v.optional(v.pipe(v.string(), v.regex(/^[\w.:-]{1,64}$/, 'must be 1-64 of letters, digits, . _ : -')), 'agg'),
  LOG_LEVEL: v.optional(v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
  // Ingest limits (the contract's event table and request limits).
  MAX_BODY_BYTES: int(5 * 1024 * 1024, 1),
  MAX_EVENTS_PER_REQUEST: int(1000, 1),
  // topic and event_id form the unique key's index entry, which PostgreSQL caps near 2,700 bytes:
  // 256 characters each, at up to 4 bytes a character, stays under it.
  MAX_TOPIC_LENGTH: int(128, 1, 256),
  MAX_EVENT_ID_LENGTH: int(128, 1, 256),
  MAX_SOURCE_LENGTH: int(128, 1, 10_000),
  MAX_PAYLOAD_BYTES: int(64 * 1024, 2),
  MAX_PAYLOAD_DEPTH: int(32, 1, 1000),
  MAX_QUEUE_LENGTH: int(1_000_000, 1),
  INGEST_API_KEYS: keyList,
  READ_API_KEYS: keyList,
  // Processing.
  WORKERS: int(2, 1, 64),
  BATCH_MAX_EVENTS: int(2000, 1, 100_000),
  BATCH_MAX_MESSAGES: int(500, 1, 5000),
  QUEUE_LEASE_MS: int(30_000, 100),
  POLL_INTERVAL_MS: int(50, 1, 60_000),
  MAX_ATTEMPTS: int(5, 1, 1000),
  // Failures of one claim's store that are not an outage (a timeout, a bug) before it is handed back counting an attempt.
  STORE_MAX_RETRIES: int(5, 0, 1000),
  DB_POOL_SIZE: int(4, 1, 200),
  COUNTER_SHARDS: int(16, 1, 1024),
  // Independent queues, each in its own Redis Cluster slot (shared/queue/queue.ts); 1 keeps the keys of old.
  QUEUE_SHARDS: int(1, 1, 256),
  // Shards read (claimed, reaped, counted) though no longer written: the old QUEUE_SHARDS after lowering it.
  QUEUE_SHARDS_DRAIN: int(0, 0, 256),
  // How many requests accepted in one turn may share a queue message; 1 writes one message a request,
  // which a process older than this setting can read (roll process first, or keep 1 until it is rolled).
  QUEUE_MESSAGE_MAX_REQUESTS: int(100, 1, 1_000),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100),
  // A request (headers and body) that takes longer is cut off: a slow client cannot hold a connection.
  REQUEST_TIMEOUT_MS: int(30_000, 100, 3_600_000),
  // How long `POST /publish?wait=true` waits for its events to be stored before answering 202.
  WAIT_TIMEOUT_MS: int(10_000, 1, 600_000),
});

export type Config = Readonly<{
  host: string;
  port: number;
  redisUrl: string;
  /** Empty unless Redis is a cluster (REDIS_CLUSTER_NODES). */
  redisClusterNodes: readonly Readonly<{ host: string; port: number }>[];
  /** The cluster nodes' password, when they want one. */
  redisPassword: string | undefined;
  redisMinReplicasAck: number;
  redisReplicaAckTimeoutMs: number;
  databaseUrl: string;
  /** Where reads that may lag (GET /events) go: DATABASE_READ_URL, else DATABASE_URL. */
  databaseReadUrl: string;
  queuePrefix: string;
  /** How many shards ingest writes to. */
  queueShards: number;
  /** How many shards are read: QUEUE_SHARDS, or more while shards from a higher QUEUE_SHARDS still count. */
  queueShardsRead: number;
  /** How many requests accepted in one turn may share a queue message. */
  queueMessageMaxRequests: number;
  logLevel: v.InferOutput<typeof EnvSchema>['LOG_LEVEL'];
  limits: Readonly<{
    maxBodyBytes: number;
    maxEventsPerRequest: number;
    maxTopicLength: number;
    maxEventIdLength: number;
    maxSourceLength: number;
    maxPayloadBytes: number;
    maxPayloadDepth: number;
    maxQueueLength: number;
  }>;
  ingestApiKeys: readonly string[];
  readApiKeys: readonly string[];
  workers: number;
  batchMaxEvents: number;
  batchMaxMessages: number;
  leaseMs: number;
  pollIntervalMs: number;
  maxAttempts: number;
  storeMaxRetries: number;
  dbPoolSize: number;
  counterShards: number;
  shutdownTimeoutMs: number;
  requestTimeoutMs: number;
  waitTimeoutMs: number;
}>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Where OpenFaaS mounts a function's secrets, one file each. */
const OPENFAAS_SECRETS_DIR = '/var/openfaas/secrets';

/**
 * The OpenFaaS secret file that can hold a variable: secret names are lower-case DNS labels.
 *
 * @example secretNameOf('DATABASE_URL') // 'database-url'
 */
export const secretNameOf = (variable: string) => variable.toLowerCase().replaceAll('_', '-');

// Lists of keys: a secret file for one of them that holds no key would open routes without anyone noticing.
const KEY_LISTS = new Set(['INGEST_API_KEYS', 'READ_API_KEYS']);

/**
 * Every environment variable the config reads, each with its `_FILE` twin; any
 * other is ignored (a deployment's typo does nothing, so the artefact tests
 * check deployments against this list).
 *
 * @example CONFIG_VARIABLES.includes('REDIS_URL') // true
 */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(EnvSchema.entries).flatMap((name) => [name, `${name}_FILE`]));

function readSecret(path: string, missingIsUnset: boolean): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (missingIsUnset && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // The path is not secret; the file's content never appears in a message.
    throw new ConfigError(`cannot read the secret file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/**
 * The one place secrets are read. A variable comes from the environment
 * (`DATABASE_URL`), or from the file its `_FILE` variable names (Docker and
 * Compose secrets), never both; else from its OpenFaaS secret file
 * (`/var/openfaas/secrets/database-url`), else it is unset. A secret file's
 * content is trimmed; one that exists must hold a value.
 */
function withSecrets(present: Record<string, string>, secretsDir: string | null): Record<string, string> {
  const merged = { ...present };
  const openfaas = secretsDir !== null && existsSync(secretsDir) ? secretsDir : null;
  for (const name of Object.keys(EnvSchema.entries)) {
    const fileVariable = merged[`${name}_FILE`];
    // Two sources for one setting: whichever won, the operator meant the other one somewhere.
    if (merged[name] !== undefined && fileVariable !== undefined) throw new ConfigError(`${name} and ${name}_FILE are both set: set one`);
    if (merged[name] !== undefined) continue;
    const value = fileVariable !== undefined
      ? readSecret(fileVariable, false)
      : openfaas !== null ? readSecret(join(openfaas, secretNameOf(name)), true) : undefined;
    if (value === undefined) continue;
    const isKeyList = KEY_LISTS.has(name);
    if (isKeyList ? splitKeys(value).length === 0 : value.trim() === '') {
      throw new ConfigError(`the secret file for ${name} holds no ${isKeyList ? 'key' : 'value'}`);
    }
    merged[name] = value.trim();
  }
  return merged;
}

/**
 * Every setting of every function, read once from the environment and frozen.
 * Unknown variables are ignored; a bad value stops the process with a message
 * that names each bad variable.
 *
 * @param options.secretsDir where to look for OpenFaaS secret files; null to look nowhere.
 * @example
 *   const config = loadConfig(process.env);
 *   config.redisUrl // 'redis://127.0.0.1:6379'
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  options: { secretsDir?: string | null } = {},
): Config {
  // Empty strings count as unset, as docker compose writes `VAR=` for a blank default.
  const given = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
  const present = withSecrets(given, options.secretsDir === undefined ? OPENFAAS_SECRETS_DIR : options.secretsDir);
  const result = v.safeParse(EnvSchema, present);
  if (!result.success) {
    const problems = result.issues.map((issue) => `${v.getDotPath(issue) ?? '?'}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = result.output;
  return Object.freeze({
    host: e.HOST,
    port: e.PORT,
    redisUrl: e.REDIS_URL,
    redisClusterNodes: Object.freeze(e.REDIS_CLUSTER_NODES.map((node) => Object.freeze(node))),
    redisPassword: e.REDIS_PASSWORD?.trim(),
    redisMinReplicasAck: e.REDIS_MIN_REPLICAS_ACK,
    redisReplicaAckTimeoutMs: e.REDIS_REPLICA_ACK_TIMEOUT_MS,
    databaseUrl: e.DATABASE_URL,
    databaseReadUrl: e.DATABASE_READ_URL ?? e.DATABASE_URL,
    queuePrefix: e.QUEUE_PREFIX,
    queueShards: e.QUEUE_SHARDS,
    queueShardsRead: Math.max(e.QUEUE_SHARDS, e.QUEUE_SHARDS_DRAIN),
    queueMessageMaxRequests: e.QUEUE_MESSAGE_MAX_REQUESTS,
    logLevel: e.LOG_LEVEL,
    limits: Object.freeze({
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxEventsPerRequest: e.MAX_EVENTS_PER_REQUEST,
      maxTopicLength: e.MAX_TOPIC_LENGTH,
      maxEventIdLength: e.MAX_EVENT_ID_LENGTH,
      maxSourceLength: e.MAX_SOURCE_LENGTH,
      maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
      maxPayloadDepth: e.MAX_PAYLOAD_DEPTH,
      maxQueueLength: e.MAX_QUEUE_LENGTH,
    }),
    ingestApiKeys: Object.freeze(e.INGEST_API_KEYS),
    readApiKeys: Object.freeze(e.READ_API_KEYS),
    workers: e.WORKERS,
    batchMaxEvents: e.BATCH_MAX_EVENTS,
    batchMaxMessages: e.BATCH_MAX_MESSAGES,
    leaseMs: e.QUEUE_LEASE_MS,
    pollIntervalMs: e.POLL_INTERVAL_MS,
    maxAttempts: e.MAX_ATTEMPTS,
    storeMaxRetries: e.STORE_MAX_RETRIES,
    dbPoolSize: e.DB_POOL_SIZE,
    counterShards: e.COUNTER_SHARDS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    waitTimeoutMs: e.WAIT_TIMEOUT_MS,
  });
}

/**
 * loadConfig for a process's start: a bad setting prints its one-line message and exits 1, with no stack trace.
 *
 * @example const config = loadConfigOrExit(process.env)
 */
export function loadConfigOrExit(env: Record<string, string | undefined>): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return process.exit(1);
  }
}

/** The configuration with every default: for tests and tools that override a few fields. */
export const defaultConfig = (): Config => loadConfig({}, { secretsDir: null });
