import type { Redis } from 'ioredis';
import type { Db } from '../../shared/db/database.ts';
import { EventQueue } from '../../shared/queue/queue.ts';
import { bodiesOf, expectedAfter, type PhaseData } from '../data/phase-data.ts';
import { postEach, type LoadResult } from '../load/http-load.ts';
import { sendPaced } from '../load/paced-sender.ts';
import { replayWithWrk } from '../load/wrk.ts';
import { storeParts, withServerCpu, type ServerCosted } from '../probes/cpu-split.ts';
import type { Entries } from './compiled-build.ts';
import { checkCounters, type CounterCheck } from './counter-check.ts';
import { drained } from './drain.ts';
import { endToEndPublisher, measureEndToEnd, NO_BACKPRESSURE, type EndToEnd, type PublisherName } from './end-to-end.ts';
import { allAccepted } from './ingest-phases.ts';
import { npmStartNodeFlags, startMember, stopMember } from './stack.ts';

export type StartResult = {
  publisher: PublisherName;
  /** The same one-event requests, by the same publisher, against a bare Hono handler. */
  bareHono: ServerCosted<LoadResult>;
  single: ServerCosted<LoadResult>;
  /** One event a request at half of `single`'s rate, paced by the bench process (bench/load/raw-http.ts: wrk cannot pace). */
  halfRate: LoadResult & { targetRate: number };
  /** The end-to-end run on a tenth of the events, before the full one: the flatness check. */
  small: EndToEnd;
  endToEnd: EndToEnd;
  peakRssMb: number;
  counters: CounterCheck;
};

export type StartPhases = {
  warm: PhaseData; warmBodies: readonly string[];
  single: PhaseData; singleBodies: readonly string[];
  halfRatePhase: (rate: number) => PhaseData;
  small: PhaseData; smallBodies: readonly string[];
  endToEnd: PhaseData; endToEndBodies: readonly string[];
};

/**
 * `npm start` as users meet it: runner/local.ts, one process (HTTP on its main thread, the claim
 * loops in its storage thread), against a fresh database and key prefix. One-event requests
 * against it and, by the same publisher in the same run, against a bare Hono handler; latency at
 * half that rate; end to end on a tenth of the events and on all of them; the counters exact at the end.
 */
export async function measureStart(args: {
  db: Db;
  databaseName: string;
  redis: Redis;
  prefix: string;
  env: Record<string, string>;
  phases: StartPhases;
  workers: number;
  publishers: number;
  connections: number;
  publisher: PublisherName;
  entries: Entries;
  log: (line: string) => void;
}): Promise<StartResult> {
  const { phases, connections, log } = args;
  const rate = (url: string, bodies: readonly string[]) =>
    args.publisher === 'wrk' ? replayWithWrk(url, bodies, { connections }) : postEach(url, bodies, { connections });
  const publish = endToEndPublisher(args.publisher, args.publishers);

  const bare = await startMember('bare-hono', 'bench/ceilings/bare-hono-server.ts', {}, null);
  let bareHono: ServerCosted<LoadResult>;
  try {
    await rate(`${bare.url}/publish`, phases.warmBodies);
    bareHono = await withServerCpu(bare.pid, () => rate(`${bare.url}/publish`, phases.singleBodies));
    await stopMember(bare);
  } finally {
    await bare.process.kill();
  }
  log(`bare Hono (${args.publisher}): ${Math.round(bareHono.requestsPerSecond)} requests/s of 1 event`);

  const queue = new EventQueue(args.redis, args.prefix);
  const runner = await startMember('npm start', args.entries.of('runner/local.ts'), { ...args.env, ...NO_BACKPRESSURE, WORKERS: String(args.workers), NODE_OPTIONS: npmStartNodeFlags() }, null);
  try {
    const url = `${runner.url}/publish`;
    allAccepted('npm start warm-up', await rate(url, phases.warmBodies));
    const single = await withServerCpu(runner.pid, () => rate(url, phases.singleBodies));
    allAccepted('npm start, 1 event a request', single);
    log(`npm start, 1 event a request (${args.publisher}): ${Math.round(single.requestsPerSecond)} requests/s, p99 ${single.latency.p99} ms`);
    const targetRate = Math.max(1, Math.floor(single.requestsPerSecond / 2));
    const half = phases.halfRatePhase(targetRate);
    const halfRate = { ...(await sendPaced(url, bodiesOf(half), targetRate, connections)), targetRate };
    allAccepted('npm start at half rate', halfRate);
    log(`npm start at half rate (${targetRate}/s): p50 ${halfRate.latency.p50} ms, p99 ${halfRate.latency.p99} ms`);

    const sent = [phases.warm, phases.single, half];
    let received = sent.reduce((n, p) => n + p.plan.total, 0);
    await drained(queue, received, 120_000 + received);
    const cpuParts = [{ label: 'npm start', pids: async () => [runner.pid] }, ...(await storeParts(args.db, args.databaseName, args.redis))];
    const endToEnd = async (phase: PhaseData, bodies: readonly string[]) => {
      const result = await measureEndToEnd({ url, phase, bodies, publish, queue, receivedBefore: received, cpuParts });
      sent.push(phase);
      received += phase.plan.total;
      log(`npm start end to end (${args.publisher}): ${result.events} events in ${result.seconds.toFixed(2)} s = ${Math.round(result.eventsPerSecond)} events/s ` +
        `(accepted at ${Math.round(result.publish.eventsPerSecond)} events/s)`);
      return result;
    };
    const small = await endToEnd(phases.small, phases.smallBodies);
    const full = await endToEnd(phases.endToEnd, phases.endToEndBodies);

    const counters = await checkCounters(runner.url, args.db, expectedAfter(sent), sent);
    log(counters.exact ? 'npm start: counters exact' : `npm start: COUNTERS WRONG: ${counters.problems.join('; ')}`);
    const { peakRssMb } = await stopMember(runner);
    return { publisher: args.publisher, bareHono, single, halfRate, small, endToEnd: full, peakRssMb, counters };
  } finally {
    await runner.process.kill();
  }
}
