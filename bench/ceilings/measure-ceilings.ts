import type { Redis } from 'ioredis';
import { defaultConfig } from '../../shared/config/config.ts';
import { eventsBetween } from '../../loadtest/lib/events.js';
import type { PhaseData } from '../data/phase-data.ts';
import { postEach, type LoadResult } from '../load/http-load.ts';
import { withServerCpu, type ServerCosted } from '../probes/cpu-split.ts';
import { startMember, stopMember } from '../system/stack.ts';
import { BARE_STATEMENT, PRODUCT_STORE } from './insert-statements.ts';
import { measureClaims, type ClaimRun } from './claim-ceiling.ts';
import { ceilingBatches, distinctKeys, timeInsert, type InsertRun } from './postgres-ceiling.ts';
import { measureRedis, type RedisCeiling } from './redis-ceiling.ts';

export type Ceilings = {
  /** The bare statement at 1 and 2 connections; the faster is the PostgreSQL ceiling. */
  inserts: InsertRun[];
  /** The product's whole store on the same data, for the distance between it and the ceiling. */
  productStore: InsertRun[];
  redis: RedisCeiling;
  /** Claiming a backlog of the run's messages dry with the product's script. */
  claims: ClaimRun;
  hono: { single: ServerCosted<LoadResult>; batch: ServerCosted<LoadResult> };
};

export const CEILING_CONNECTIONS = [1, 2] as const;

/** The bare statement on its better number of connections: the PostgreSQL ceiling the end-to-end rate is held against. */
export const bestInsert = (ceilings: Ceilings): InsertRun =>
  ceilings.inserts.reduce((best, run) => (run.rowsPerSecond > best.rowsPerSecond ? run : best));

/**
 * What the machine can do at each stage with nothing of ours in the way, on
 * the run's own data: PostgreSQL dedupe inserts (in a database of their own,
 * with the product's schema), Redis pushes, and a bare Hono server.
 */
export async function measureCeilings(args: {
  databaseUrl: string;
  redis: Redis;
  redisUrl: string;
  prefix: string;
  endToEnd: PhaseData;
  rows: number;
  perStatement: number;
  http: { warm: readonly string[]; single: readonly string[]; batch: readonly string[]; connections: number };
  log: (line: string) => void;
}): Promise<Ceilings> {
  const { log } = args;
  const batches = ceilingBatches(args.endToEnd, Math.min(args.rows, args.endToEnd.plan.total), args.perStatement);
  const keys = distinctKeys(batches);
  const inserts: InsertRun[] = [];
  const productStore: InsertRun[] = [];
  for (const connections of CEILING_CONNECTIONS) {
    for (const [inserter, runs] of [[BARE_STATEMENT, inserts], [PRODUCT_STORE, productStore]] as const) {
      const run = await timeInsert(args.databaseUrl, inserter, batches, connections, keys);
      runs.push(run);
      log(`PostgreSQL ${inserter.name}, ${connections} connection(s): ${Math.round(run.rowsPerSecond)} rows/s`);
    }
  }

  const singleEvents = eventsBetween(args.endToEnd.plan, 0, Math.min(args.rows, args.endToEnd.plan.total));
  const redis = await measureRedis(args.redisUrl, args.prefix, singleEvents.map((event, i) => ({ id: `ceiling-${i}`, events: [event] })), { perCall: 100, inFlight: 8 });
  log(`Redis: LPUSH ${Math.round(redis.lpushValuesPerSecond)} values/s; enqueue ${Math.round(redis.enqueueCallsPerSecond)} calls/s ` +
    `(${redis.enqueueClientCpuUs.toFixed(1)} µs client CPU a call), auto-pipelined ${Math.round(redis.enqueueAutoPipelinedCallsPerSecond)} calls/s ` +
    `(${redis.enqueueAutoPipelinedClientCpuUs.toFixed(1)} µs)`);
  const claims = await measureClaims(args.redis, args.prefix, batches.flatMap((b) => b.rawMessages), defaultConfig());
  log(`Redis claim.lua: ${Math.round(claims.eventsPerSecond)} events/s claimed from ${claims.messages} messages, slowest claim ${claims.slowestMs.toFixed(1)} ms`);

  const bare = await startMember('bare-hono', 'bench/ceilings/bare-hono-server.ts', {}, null);
  try {
    await postEach(`${bare.url}/publish`, args.http.warm, { connections: args.http.connections }); // as ingest is warmed up
    const single = await withServerCpu(bare.pid, () => postEach(`${bare.url}/publish`, args.http.single, { connections: args.http.connections }));
    const batch = await withServerCpu(bare.pid, () => postEach(`${bare.url}/publish`, args.http.batch, { connections: args.http.connections }));
    log(`bare Hono: ${Math.round(single.requestsPerSecond)} requests/s of 1 event, ${Math.round(batch.requestsPerSecond)} requests/s of a batch`);
    await stopMember(bare);
    return { inserts, productStore, redis, claims, hono: { single, batch } };
  } finally {
    await bare.process.kill();
  }
}
