import { setTimeout as measureWindow } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createTestDatabase } from '../../dev/services.ts';
import { startPrivateRedis } from '../../dev/private-redis.ts';
import { waitFor } from '../../dev/wait.ts';
import { readTotals } from '../../shared/db/counter.repository.ts';
import { EventQueue } from '../../shared/queue/queue.ts';
import { expectedAfter, type PhaseData } from '../data/phase-data.ts';
import type { LoadResult } from '../load/http-load.ts';
import type { ServerCosted } from '../probes/cpu-split.ts';
import { cpuSeconds } from '../probes/proc-stats.ts';
import { callsBetween, commandStats, redisServerPid } from '../probes/redis-server.ts';
import { checkCounters, type CounterCheck } from './counter-check.ts';
import { drained } from './drain.ts';
import { acceptedPosts } from './ingest-phases.ts';
import type { Drain } from './measure-system.ts';
import { startMember, stopMember, type Member } from './stack.ts';

/** One QUEUE_SHARDS setting of the split deployment, on a Redis server of the bench's own. */
export type ShardSetting = {
  shards: number;
  /** One event a request: the latency a publisher sees. */
  single: ServerCosted<LoadResult>;
  /** `batch` events a request. */
  batch: ServerCosted<LoadResult> & { eventsPerSecond: number };
  /** Everything ingest queued, drained by the process function from the moment it was let go. */
  drain: Drain;
  /** The process function with an empty queue, over a fixed window: what polling costs. */
  idle: { seconds: number; processCpuPercent: number; redisCpuPercent: number; redisCommandsPerSecond: number };
  /** Redis commands (scripts' commands counted) while ingest took the events and while they were drained. */
  commands: { ingest: number; drain: number; storedEvents: number; perStoredEvent: number };
  counters: CounterCheck;
};

export type ShardPhases = { warm: PhaseData; warmBodies: readonly string[]; single: PhaseData; singleBodies: readonly string[]; batch: PhaseData; batchBodies: readonly string[] };

type StageArgs = { phases: ShardPhases; workers: number; connections: number; idleSeconds: number; logLevel: string; log: (line: string) => void };

const percentOfCore = (cpu: number, seconds: number) => (cpu / seconds) * 100;

/**
 * The overhead of queue shards on one machine: the same events through ingest and a
 * process function with each QUEUE_SHARDS setting in turn. A Redis server of its own
 * (no AOF, as the local one runs), so that its command counts are the system's alone.
 * On one Redis, shards can only add round trips; the setting pays off on a Cluster.
 */
export async function measureShardOverhead(args: StageArgs & { settings: readonly number[] }): Promise<ShardSetting[]> {
  const server = await startPrivateRedis({ durable: false });
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  try {
    const results: ShardSetting[] = [];
    for (const shards of args.settings) {
      results.push(await measureSetting({ ...args, shards, redis, redisUrl: server.url, log: (line) => args.log(`[QUEUE_SHARDS=${shards}] ${line}`) }));
    }
    return results;
  } finally {
    redis.disconnect();
    await server.destroy();
  }
}

async function measureSetting(args: StageArgs & { shards: number; redis: Redis; redisUrl: string }): Promise<ShardSetting> {
  const { shards, redis, phases, log } = args;
  const database = await createTestDatabase(`bench_shards${shards}`);
  const prefix = `bench-shards${shards}`;
  const env = { DATABASE_URL: database.url, REDIS_URL: args.redisUrl, QUEUE_PREFIX: prefix, QUEUE_SHARDS: String(shards), LOG_LEVEL: args.logLevel };
  const queue = new EventQueue(redis, prefix, { shards });
  const sent = [phases.warm, phases.single, phases.batch];
  const received = sent.reduce((n, p) => n + p.plan.total, 0);
  const running: Member[] = [];
  const start = async (name: string, entry: string, extra: Record<string, string> = {}) => {
    const member = await startMember(name, entry, { ...env, ...extra }, null);
    running.push(member);
    return member;
  };
  try {
    const [ingest, worker] = await Promise.all([
      start('ingest', 'functions/ingest/server.ts'),
      start('process', 'functions/process/server.ts', { WORKERS: String(args.workers) }),
    ]);
    // Held while ingest is measured, so that the backlog is all there when it is let go, and ingest has the cores.
    process.kill(worker.pid, 'SIGSTOP');
    const url = `${ingest.url}/publish`;
    const beforeIngest = await commandStats(redis);
    await acceptedPosts('warm-up', url, ingest.pid, phases.warmBodies, args.connections);
    const single = await acceptedPosts('1 event a request', url, ingest.pid, phases.singleBodies, args.connections);
    const batchResult = await acceptedPosts(`${phases.batch.eventsPerRequest} events a request`, url, ingest.pid, phases.batchBodies, args.connections);
    const batch = { ...batchResult, eventsPerSecond: batchResult.requestsPerSecond * phases.batch.eventsPerRequest };
    log(`ingest: 1 event a request p50 ${single.latency.p50} ms, p99 ${single.latency.p99} ms; ${Math.round(batch.eventsPerSecond)} events/s in batches`);
    await stopMember(ingest);
    running.splice(running.indexOf(ingest), 1);
    const afterIngest = await commandStats(redis); // ingest's goodbye to Redis counts as its own

    const drainStarted = performance.now();
    process.kill(worker.pid, 'SIGCONT');
    // PostgreSQL is asked until everything is counted there, so that the wait adds no commands to Redis's count;
    // the acknowledgements follow their commits by moments, so only the last read or two of Redis's counters counts in.
    await waitFor(async () => {
      const totals = await readTotals(database.db);
      return totals.uniqueProcessed + totals.duplicateDropped >= received;
    }, { timeoutMs: 120_000 + received, intervalMs: 10, what: `${received} events counted in PostgreSQL` });
    const drainSeconds = ((await drained(queue, received, 60_000)) - drainStarted) / 1000;
    const afterDrain = await commandStats(redis);
    const drain = { events: received, seconds: drainSeconds, eventsPerSecond: received / drainSeconds };
    log(`drain: ${received} events in ${drainSeconds.toFixed(2)} s = ${Math.round(drain.eventsPerSecond)} events/s`);

    const idle = await idleCost(redis, worker.pid, args.idleSeconds);
    log(`idle: process function ${idle.processCpuPercent.toFixed(2)}% of a core, Redis ${Math.round(idle.redisCommandsPerSecond)} commands/s`);
    await stopMember(worker);
    running.splice(running.indexOf(worker), 1);

    const stats = await start('stats', 'functions/stats/server.ts');
    const counters = await checkCounters(stats.url, database.db, expectedAfter(sent), sent);
    log(counters.exact ? 'counters exact' : `COUNTERS WRONG: ${counters.problems.join('; ')}`);
    const commands = { ingest: callsBetween(beforeIngest, afterIngest), drain: callsBetween(afterIngest, afterDrain), storedEvents: counters.rows };
    return { shards, single, batch, drain, idle, commands: { ...commands, perStoredEvent: (commands.ingest + commands.drain) / commands.storedEvents }, counters };
  } finally {
    await Promise.all(running.map((member) => member.process.kill()));
    await database.drop();
  }
}

/** The CPU of the process function and of Redis, and Redis's commands, over `seconds` of an empty queue. */
async function idleCost(redis: Redis, pid: number, seconds: number): Promise<ShardSetting['idle']> {
  const redisPid = await redisServerPid(redis);
  const cpuOf = (p: number) => cpuSeconds(p) ?? Number.NaN;
  const [processBefore, redisBefore] = [cpuOf(pid), cpuOf(redisPid)];
  const commandsBefore = await commandStats(redis);
  const started = performance.now();
  await measureWindow(seconds * 1000); // a fixed window to measure over, not a wait for something to happen
  const commandsAfter = await commandStats(redis);
  const elapsed = (performance.now() - started) / 1000;
  return {
    seconds: elapsed,
    processCpuPercent: percentOfCore(cpuOf(pid) - processBefore, elapsed),
    redisCpuPercent: percentOfCore(cpuOf(redisPid) - redisBefore, elapsed),
    redisCommandsPerSecond: callsBetween(commandsBefore, commandsAfter) / elapsed,
  };
}
