import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import type { Db } from '../../shared/db/database.ts';
import { cpuSeconds, machineBusySeconds } from './proc-stats.ts';
import { redisServerPid } from './redis-server.ts';

/** A part of the machine's work: a label and the processes doing it right now. */
export type CpuPart = { label: string; pids: () => Promise<number[]> };

type Reading = Map<number, { label: string; seconds: number }>;

async function read(parts: readonly CpuPart[]): Promise<Reading> {
  const reading: Reading = new Map();
  for (const part of parts) {
    for (const pid of await part.pids()) {
      const seconds = cpuSeconds(pid);
      if (seconds !== null) reading.set(pid, { label: part.label, seconds });
    }
  }
  return reading;
}

/** The store's parts of a system run: the PostgreSQL backends serving `databaseName` (listed when read) and the Redis server. */
export async function storeParts(db: Db, databaseName: string, redis: Redis): Promise<CpuPart[]> {
  const redisPid = await redisServerPid(redis);
  const backends = async () => (await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = ${databaseName}`.execute(db)).rows.map((r) => r.pid);
  return [{ label: POSTGRES_BACKENDS, pids: backends }, { label: 'redis-server (shared)', pids: async () => [redisPid] }];
}

/** The label of PostgreSQL's CPU in a split. */
export const POSTGRES_BACKENDS = 'postgres backends';

/** What the rest of the machine used meanwhile: other tenants' work shows here. */
export const ELSEWHERE = 'everything else on the machine';

/**
 * Measures the CPU seconds each part uses while `work` runs: the processes of
 * a part are listed at the start and at the end (a PostgreSQL backend may
 * come during the work; it then counts from zero). The machine's own busy
 * time, less the parts', is reported as ELSEWHERE.
 *
 * @example const { result, cpu } = await withCpuSplit(parts, () => publishAll(...))
 */
export async function withCpuSplit<T>(parts: readonly CpuPart[], work: () => Promise<T>): Promise<{ result: T; cpu: Record<string, number> }> {
  const before = await read(parts);
  const machineBefore = machineBusySeconds();
  const result = await work();
  const machine = machineBusySeconds() - machineBefore;
  const after = await read(parts);
  const cpu: Record<string, number> = Object.fromEntries(parts.map((p) => [p.label, 0]));
  for (const [pid, { label, seconds }] of after) cpu[label] = (cpu[label] ?? 0) + seconds - (before.get(pid)?.seconds ?? 0);
  cpu[ELSEWHERE] = Math.max(0, machine - Object.values(cpu).reduce((sum, s) => sum + s, 0));
  return { result, cpu };
}

export type ServerCosted<T> = T & {
  serverCpuUsPerRequest: number;
  /** Cores busy, on average, with everything but the server and this process: the noise under the numbers. */
  otherCores: number;
};

/**
 * Runs `work` and adds how many CPU microseconds the process `pid` spent per
 * request of the result (a cost that other tenants of the machine bend less
 * than they bend rates), and how busy the rest of the machine was meanwhile.
 */
export async function withServerCpu<T extends { requests: number }>(pid: number, work: () => Promise<T>): Promise<ServerCosted<T>> {
  const started = performance.now();
  const { result, cpu } = await withCpuSplit([{ label: 'server', pids: async () => [pid] }, { label: 'bench', pids: async () => [process.pid] }], work);
  const seconds = (performance.now() - started) / 1000;
  return { ...result, serverCpuUsPerRequest: ((cpu.server ?? 0) / result.requests) * 1e6, otherCores: (cpu[ELSEWHERE] ?? 0) / seconds };
}
