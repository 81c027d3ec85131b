import * as v from 'valibot';

/**
 * Every setting of every function, read once from the environment and frozen.
 * Unknown variables are ignored; a bad value stops the process with a message
 * that names each bad variable.
 *
 * @example
 *   const config = loadConfig(process.env);
 *   config.redisUrl // 'redis://127.0.0.1:6379'
 */
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

const url = (fallback: string, schemes: string[]) =>
  v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.check((s) => URL.canParse(s) && schemes.includes(new URL(s).protocol), `must be a ${schemes.join(' or ')} URL`),
    ),
    fallback,
  );

const keyList = v.optional(
  v.pipe(
    v.string(),
    v.transform((s) => s.split(',').map((k) => k.trim()).filter((k) => k.length > 0)),
  ),
  '',
);

const EnvSchema = v.object({
  PORT: int(8080, 0, 65535),
  REDIS_URL: url('redis://127.0.0.1:6379', ['redis:', 'rediss:']),
  DATABASE_URL: url('postgres://postgres@127.0.0.1:5432/postgres', ['postgres:', 'postgresql:']),
  QUEUE_PREFIX: v.optional(v.pipe(v.string(), v.regex(/^[\w.:-]{1,64}$/, 'must be 1-64 of letters, digits, . _ : -')), 'agg'),
  LOG_LEVEL: v.optional(v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
  // Ingest limits (the contract's event table and request limits).
  MAX_BODY_BYTES: int(5 * 1024 * 1024, 1),
  MAX_EVENTS_PER_REQUEST: int(1000, 1),
  MAX_TOPIC_LENGTH: int(128, 1, 10_000),
  MAX_EVENT_ID_LENGTH: int(128, 1, 10_000),
  MAX_SOURCE_LENGTH: int(128, 1, 10_000),
  MAX_PAYLOAD_BYTES: int(64 * 1024, 2),
  MAX_PAYLOAD_DEPTH: int(32, 1, 1000),
  MAX_QUEUE_LENGTH: int(1_000_000, 1),
  INGEST_API_KEYS: keyList,
  READ_API_KEYS: keyList,
  // Processing.
  WORKERS: int(2, 0, 64),
  BATCH_MAX_EVENTS: int(2000, 1, 100_000),
  BATCH_MAX_MESSAGES: int(500, 1, 5000),
  QUEUE_LEASE_MS: int(30_000, 100),
  POLL_INTERVAL_MS: int(50, 1, 60_000),
  MAX_ATTEMPTS: int(5, 1, 1000),
  DB_POOL_SIZE: int(4, 1, 200),
  COUNTER_SHARDS: int(16, 1, 1024),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100),
});

export type Config = Readonly<{
  port: number;
  redisUrl: string;
  databaseUrl: string;
  queuePrefix: string;
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
  dbPoolSize: number;
  counterShards: number;
  shutdownTimeoutMs: number;
}>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, as docker compose writes `VAR=` for a blank default.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = v.safeParse(EnvSchema, present);
  if (!result.success) {
    const problems = result.issues.map((issue) => `${v.getDotPath(issue) ?? '?'}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = result.output;
  return Object.freeze({
    port: e.PORT,
    redisUrl: e.REDIS_URL,
    databaseUrl: e.DATABASE_URL,
    queuePrefix: e.QUEUE_PREFIX,
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
    dbPoolSize: e.DB_POOL_SIZE,
    counterShards: e.COUNTER_SHARDS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  });
}

/** The configuration with every default: for tests and tools that override a few fields. */
export const defaultConfig = (): Config => loadConfig({});
