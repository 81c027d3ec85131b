import { existsSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, testRedis, TEST_REDIS_URL } from '../dev/services.ts';
import type { BenchOptions } from './bench-options.ts';
import { measureCeilings, type Ceilings } from './ceilings/measure-ceilings.ts';
import { bodiesOf, phaseData, type PhaseData } from './data/phase-data.ts';
import { summariseProfile, type ProfileSummary } from './probes/cpu-profile-summary.ts';
import { measureClient, type ClientResult } from './system/client-phase.ts';
import type { Entries } from './system/compiled-build.ts';
import { NO_BACKPRESSURE } from './system/end-to-end.ts';
import { measureStart, type StartResult } from './system/measure-start.ts';
import { measureSystem, type SystemResult } from './system/measure-system.ts';
import { measureShardOverhead, type ShardSetting } from './system/shard-overhead.ts';

export type RoundResult = {
  round: number;
  startedAt: string;
  seconds: number;
  /** The machine's load average (1, 5, 15 minutes) before and after: other work on it skews the numbers. */
  load: { before: number[]; after: number[] };
  ceilings: Ceilings;
  system: SystemResult;
  /** One publisher client into `npm start`. */
  client: ClientResult;
  /** The sharding stage, one entry a QUEUE_SHARDS setting (--shards); empty without it. */
  shards: ShardSetting[];
  /** The npm start stage, with --start. */
  start: StartResult | null;
  profiles: ProfileSummary[];
};

// Long enough for a steady rate and a meaningful p99, short enough to keep the run bounded.
const HALF_RATE_SECONDS = 4;
// Enough requests for V8 to optimise the request path before the HTTP servers are measured.
const WARM_UP_REQUESTS = 3_000;

/**
 * One round: a fresh database for the system and another for the ceilings, a
 * fresh Redis prefix, the ceilings, then the system; everything is dropped at
 * the end, whatever happens.
 */
export async function runRound(
  options: BenchOptions,
  round: number,
  spawning: { entries: Entries; profileDir: string | null },
  log: (line: string) => void,
): Promise<RoundResult> {
  const { profileDir } = spawning;
  const startedAt = new Date();
  const before = loadavg();
  const [systemDb, ceilingDb, clientDb, startDb] = await Promise.all([
    createTestDatabase('bench'), createTestDatabase('bench_ceiling'), createTestDatabase('bench_client'),
    options.start ? createTestDatabase('bench_start') : null,
  ]);
  const redis = testRedis('bench');
  const clientRedis = testRedis('bench-client');
  const startRedis = testRedis('bench-start');
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  try {
    const phase = (name: string, total: number, perRequest: number) =>
      phaseData(name, total, perRequest, { duplicates: options.duplicates, seed: options.seed });
    const endToEnd = phase('e2e', options.events, options.batch);
    const warm = phase('warm', Math.min(WARM_UP_REQUESTS, options.singleRequests), 1);
    const single = phase('single', options.singleRequests, 1);
    const batch = phase('batch', options.batchRequests * options.batch, options.batch);
    log('building request bodies');
    const warmBodies = bodiesOf(warm);
    const singleBodies = bodiesOf(single);
    const batchBodies = bodiesOf(batch);
    const endToEndBodies = bodiesOf(endToEnd);

    const ceilings = await measureCeilings({
      databaseUrl: ceilingDb.url, redis: redis.redis, redisUrl: TEST_REDIS_URL, prefix: redis.prefix, endToEnd,
      rows: options.ceilingRows, perStatement: options.statementRows,
      http: { warm: warmBodies, single: singleBodies, batch: batchBodies, connections: options.connections }, log,
    });

    const system = await measureSystem({
      db: systemDb.db, databaseName: systemDb.name, redis: redis.redis, prefix: redis.prefix,
      env: { DATABASE_URL: systemDb.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix, LOG_LEVEL: options.logLevel, ...NO_BACKPRESSURE },
      phases: {
        warm, warmBodies, single, singleBodies, batch, batchBodies, endToEnd, endToEndBodies,
        halfRatePhase: (rate) => phase('half', Math.max(100, Math.round(rate * HALF_RATE_SECONDS)), 1),
        curvePhase: (pollers) => phase(`curve${pollers}`, options.curveEvents, options.batch),
      },
      workers: options.workers, pollers: options.pollers, publishers: options.publishers, publisher: options.publisher, connections: options.connections,
      ...spawning, log,
    });
    const client = await measureClient({
      env: { DATABASE_URL: clientDb.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: clientRedis.prefix, LOG_LEVEL: options.logLevel },
      db: clientDb.db, redis: clientRedis.redis, prefix: clientRedis.prefix, phase: phase('client', options.clientEvents, 1),
      entry: spawning.entries.of('runner/local.ts'), profileDir, log,
    });
    const shards = options.shards.length === 0 ? [] : await shardStage(options, phase, { warm, warmBodies }, log);
    // The same bodies again, on a database and key prefix of its own; the tenth-size run's events are its own.
    const small = phase('small', Math.max(options.batch, Math.round(options.events / 10)), options.batch);
    const start = startDb && await measureStart({
      db: startDb.db, databaseName: startDb.name, redis: startRedis.redis, prefix: startRedis.prefix,
      env: { DATABASE_URL: startDb.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: startRedis.prefix, LOG_LEVEL: options.logLevel },
      phases: {
        warm, warmBodies, single, singleBodies, small, smallBodies: bodiesOf(small), endToEnd, endToEndBodies,
        halfRatePhase: (rate) => phase('half', Math.max(100, Math.round(rate * HALF_RATE_SECONDS)), 1),
      },
      workers: options.workers, publishers: options.publishers, connections: options.connections, publisher: options.publisher,
      entries: spawning.entries, log: (line) => log(`[npm start] ${line}`),
    });
    const profiles = [...system.processes, client.runner]
      .filter((p) => p.profile !== null && existsSync(p.profile))
      .map((p) => summariseProfile(p.name, p.profile as string));
    return {
      round, startedAt: startedAt.toISOString(), seconds: (Date.now() - startedAt.getTime()) / 1000,
      load: { before, after: loadavg() }, ceilings, system, client, shards, start, profiles,
    };
  } finally {
    await Promise.allSettled([systemDb.drop(), ceilingDb.drop(), clientDb.drop(), startDb?.drop(), redis.cleanup(), clientRedis.cleanup(), startRedis.cleanup()]);
  }
}

/** The sharding stage: every setting gets the same events, its own small phases after the round's warm-up. */
async function shardStage(
  options: BenchOptions,
  phase: (name: string, total: number, perRequest: number) => PhaseData,
  warm: { warm: PhaseData; warmBodies: readonly string[] },
  log: (line: string) => void,
): Promise<ShardSetting[]> {
  const single = phase('shardsingle', options.shardRequests, 1);
  const batch = phase('shardbatch', options.shardBatches * options.batch, options.batch);
  return measureShardOverhead({
    settings: options.shards, phases: { ...warm, single, singleBodies: bodiesOf(single), batch, batchBodies: bodiesOf(batch) },
    workers: options.workers, connections: options.connections, idleSeconds: options.idleSeconds, logLevel: options.logLevel,
    log: (line) => log(`[shards] ${line}`),
  });
}

/** Where a round's CPU profiles go. */
export const profileDirOf = (out: string, stamp: string, round: number) => join(out, 'profiles', `${stamp}-round${round}`);
