import type { Redis } from 'ioredis';
import type { Db } from '../../shared/db/database.ts';
import { EventQueue } from '../../shared/queue/queue.ts';
import { expectedAfter, type PhaseData } from '../data/phase-data.ts';
import { storeParts, type CpuPart } from '../probes/cpu-split.ts';
import { commandsBetween, commandStats, slowlogSince, type CommandStat, type SlowEntry } from '../probes/redis-server.ts';
import type { Entries } from './compiled-build.ts';
import { checkCounters, type CounterCheck } from './counter-check.ts';
import { drained } from './drain.ts';
import { endToEndPublisher, measureEndToEnd, type EndToEnd, type PublisherName } from './end-to-end.ts';
import { measureIngest, type IngestResults } from './ingest-phases.ts';
import { measurePollerCurve, type PollerPoint } from './poller-curve.ts';
import { startMember, stopMember, type Member, type MemberReport } from './stack.ts';

export type Drain = { events: number; seconds: number; eventsPerSecond: number };

export type SystemResult = {
  ingest: IngestResults;
  /** The ingest phases' backlog, drained by the process function that then serves the end-to-end run. */
  drain: Drain;
  endToEnd: EndToEnd;
  pollers: PollerPoint[];
  processes: MemberReport[];
  counters: CounterCheck;
  redisCommands: CommandStat[];
  slowlog: SlowEntry[];
};

export type SystemPhases = {
  warm: PhaseData;
  warmBodies: readonly string[];
  single: PhaseData;
  singleBodies: readonly string[];
  batch: PhaseData;
  batchBodies: readonly string[];
  halfRatePhase: (rate: number) => PhaseData;
  endToEnd: PhaseData;
  endToEndBodies: readonly string[];
  curvePhase: (pollers: number) => PhaseData;
};

/**
 * The system as containers run it: ingest, process and stats as separate
 * processes on a fresh database and key prefix. Ingest is measured alone
 * first; a process function then drains that backlog and serves the
 * end-to-end run; the poller curve follows with fresh process functions;
 * last, /stats must agree exactly with what was sent.
 */
export async function measureSystem(args: {
  db: Db;
  databaseName: string;
  env: Record<string, string>;
  redis: Redis;
  prefix: string;
  phases: SystemPhases;
  workers: number;
  pollers: readonly number[];
  publishers: number;
  publisher: PublisherName;
  connections: number;
  entries: Entries;
  profileDir: string | null;
  log: (line: string) => void;
}): Promise<SystemResult> {
  const { env, log, profileDir, entries } = args;
  const queue = new EventQueue(args.redis, args.prefix);
  const commandsBefore = await commandStats(args.redis);
  const startedAt = Date.now();
  const running: Member[] = [];
  const processes: MemberReport[] = [];
  const stop = async (member: Member) => {
    running.splice(running.indexOf(member), 1);
    processes.push(await stopMember(member));
  };
  try {
    const [ingest, stats] = await Promise.all([
      startMember('ingest', entries.of('functions/ingest/server.ts'), env, profileDir),
      startMember('stats', entries.of('functions/stats/server.ts'), env, profileDir),
    ]);
    running.push(ingest, stats);
    const measured = await measureIngest(`${ingest.url}/publish`, ingest.pid, args.phases, args.connections, log);
    const sent = [...measured.sent];
    let received = sent.reduce((n, p) => n + p.plan.total, 0);

    const worker = await startMember('process', entries.of('functions/process/server.ts'), { ...env, WORKERS: String(args.workers) }, profileDir);
    running.push(worker);
    // The worker drains from its first moment, before it answers /healthz: time what is left from then.
    const drainStarted = performance.now();
    const left = (await queue.counters()).pending;
    const drainSeconds = ((await drained(queue, received, 120_000 + received)) - drainStarted) / 1000;
    const drain = { events: left, seconds: drainSeconds, eventsPerSecond: left / drainSeconds };
    log(`backlog drain: ${left} events in ${drainSeconds.toFixed(2)} s = ${Math.round(drain.eventsPerSecond)} events/s`);

    const cpuParts: CpuPart[] = [
      { label: 'ingest', pids: async () => [ingest.pid] },
      { label: 'process', pids: async () => [worker.pid] },
      { label: 'stats', pids: async () => [stats.pid] },
      ...(await storeParts(args.db, args.databaseName, args.redis)),
      // wrk's own CPU is not split out: it is a C process of its own, the reason it is used.
      ...(args.publisher === 'node' ? [{ label: 'bench (publishers)', pids: async () => [process.pid] }] : []),
    ];
    const endToEnd = await measureEndToEnd({
      url: `${ingest.url}/publish`, phase: args.phases.endToEnd, bodies: args.phases.endToEndBodies,
      publish: endToEndPublisher(args.publisher, args.publishers), queue, receivedBefore: received, cpuParts,
    });
    sent.push(args.phases.endToEnd);
    received += args.phases.endToEnd.plan.total;
    log(`end to end: ${endToEnd.events} events in ${endToEnd.seconds.toFixed(2)} s = ${Math.round(endToEnd.eventsPerSecond)} events/s ` +
      `(accepted at ${Math.round(endToEnd.publish.eventsPerSecond)} events/s)`);
    await stop(worker);

    const curve = await measurePollerCurve({
      pollers: args.pollers, phaseFor: args.phases.curvePhase, queue, receivedBefore: received, env, entry: entries.of('functions/process/server.ts'), profileDir, log,
    });
    sent.push(...curve.sent);
    processes.push(...curve.processes);

    const counters = await checkCounters(stats.url, args.db, expectedAfter(sent), sent);
    log(counters.exact ? 'counters exact' : `COUNTERS WRONG: ${counters.problems.join('; ')}`);
    const redisCommands = commandsBetween(commandsBefore, await commandStats(args.redis));
    const slowlog = await slowlogSince(args.redis, startedAt);
    await stop(ingest);
    await stop(stats);
    return { ingest: measured.results, drain, endToEnd, pollers: curve.points, processes, counters, redisCommands, slowlog };
  } finally {
    await Promise.all(running.map((member) => member.process.kill()));
  }
}
