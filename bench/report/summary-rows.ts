import type { BenchOptions } from '../bench-options.ts';
import type { RoundResult } from '../bench-round.ts';
import { bestInsert } from '../ceilings/measure-ceilings.ts';
import type { Latency } from '../load/latency.ts';
import { ELSEWHERE, POSTGRES_BACKENDS } from '../probes/cpu-split.ts';
import type { EndToEnd } from '../system/end-to-end.ts';
import type { StartResult } from '../system/measure-start.ts';
import type { ShardSetting } from '../system/shard-overhead.ts';
import { median } from './median.ts';

/** One line of the results table: medians over the rounds (several numbers for a latency triple or a curve). */
export type SummaryRow = {
  stage: 'ceiling' | 'system' | 'ratio' | 'check';
  measure: string;
  unit: string;
  medians: number[];
  /** Lowest and highest of the first number over the rounds. */
  range: [number, number];
  target: string;
  /** Whether the target is met; null when the row has no target. */
  met: boolean | null;
  note: string;
};

type Spec = {
  stage: SummaryRow['stage'];
  measure: string;
  unit: string;
  picks: Array<(r: RoundResult) => number>;
  target?: { text: string; met: (medians: number[]) => boolean };
  note?: (last: RoundResult) => string;
  /** How the rounds combine: the median, unless a row needs every round (a check). */
  combine?: (values: number[]) => number;
};

const triple = (latency: (r: RoundResult) => Latency) => [(r: RoundResult) => latency(r).p50, (r: RoundResult) => latency(r).p95, (r: RoundResult) => latency(r).p99];
const ceilingRate = (r: RoundResult) => bestInsert(r.ceilings).rowsPerSecond;
const peak = (name: string) => (r: RoundResult) => r.system.processes.find((p) => p.name === name)?.peakRssMb ?? Number.NaN;
const pollerRate = (pollers: number) => (r: RoundResult) => r.system.pollers.find((p) => p.pollers === pollers)?.eventsPerSecond ?? Number.NaN;
const percent = (a: number, b: number) => (a / b) * 100;
const busyElsewhere = (cores: number) => `other work on the machine used ${cores.toFixed(2)} cores meanwhile`;
/** PostgreSQL's CPU an event of an end-to-end run against the bare statement's a row (on its faster connection count). */
const postgresCpuRatio = (run: EndToEnd, r: RoundResult) => ((run.cpu[POSTGRES_BACKENDS] ?? Number.NaN) / run.events) * 1e6 / bestInsert(r.ceilings).postgresCpuUsPerRow;

const perRequestOf = (options: BenchOptions) => `${options.batch} events a request`;

function specs(options: BenchOptions): Spec[] {
  const perRequest = perRequestOf(options);
  const hasTwoAndOne = options.pollers.includes(1) && options.pollers.includes(2);
  return [
    { stage: 'ceiling', measure: 'PostgreSQL dedupe insert, bare statement', unit: 'rows/s', picks: [ceilingRate],
      note: (r) => { const best = bestInsert(r.ceilings); return `${best.inserter}, ${best.connections} connection(s); 1 and 2 connections below`; } },
    { stage: 'ceiling', measure: 'Redis LPUSH, 100 values a call', unit: 'values/s', picks: [(r) => r.ceilings.redis.lpushValuesPerSecond] },
    { stage: 'ceiling', measure: 'Redis enqueue (ingest\'s call), 1 request a call, the requests of a turn in one script call and one message: plain / auto-pipelined client', unit: 'calls/s',
      picks: [(r) => r.ceilings.redis.enqueueCallsPerSecond, (r) => r.ceilings.redis.enqueueAutoPipelinedCallsPerSecond],
      note: (r) => `client CPU a call ${r.ceilings.redis.enqueueClientCpuUs.toFixed(1)} / ${r.ceilings.redis.enqueueAutoPipelinedClientCpuUs.toFixed(1)} µs` },
    { stage: 'ceiling', measure: `Redis claim of a backlog of ${options.batch}-event messages (claim.lua)`, unit: 'events/s',
      picks: [(r) => r.ceilings.claims.eventsPerSecond],
      note: (r) => `${r.ceilings.claims.messages} messages deep; slowest claim ${r.ceilings.claims.slowestMs.toFixed(1)} ms` },
    { stage: 'ceiling', measure: 'bare Hono POST, 1 event a request', unit: 'requests/s', picks: [(r) => r.ceilings.hono.single.requestsPerSecond] },
    { stage: 'ceiling', measure: `bare Hono POST, ${perRequest}`, unit: 'events/s', picks: [(r) => r.ceilings.hono.batch.requestsPerSecond * options.batch] },
    { stage: 'system', measure: `ingest, 1 event a request (${options.connections} connections)`, unit: 'events/s', picks: [(r) => r.system.ingest.single.requestsPerSecond] },
    { stage: 'system', measure: 'ingest latency at that rate, p50 / p95 / p99', unit: 'ms', picks: triple((r) => r.system.ingest.single.latency),
      note: (r) => busyElsewhere(r.system.ingest.single.otherCores) },
    { stage: 'system', measure: 'ingest latency at half that rate (paced), p50 / p95 / p99', unit: 'ms', picks: triple((r) => r.system.ingest.halfRate.latency),
      target: { text: 'p99 < 25 ms', met: ([, , p99]) => p99! < 25 }, note: (r) => busyElsewhere(r.system.ingest.halfRate.otherCores) },
    { stage: 'system', measure: `ingest, ${perRequest}`, unit: 'events/s', picks: [(r) => r.system.ingest.batch.eventsPerSecond] },
    { stage: 'system', measure: `ingest latency, ${perRequest}, p50 / p95 / p99`, unit: 'ms', picks: triple((r) => r.system.ingest.batch.latency) },
    { stage: 'system', measure: `server CPU a request: ingest vs bare Hono, 1 event; ingest vs bare Hono, ${perRequest}`, unit: 'µs',
      picks: [(r) => r.system.ingest.single.serverCpuUsPerRequest, (r) => r.ceilings.hono.single.serverCpuUsPerRequest,
        (r) => r.system.ingest.batch.serverCpuUsPerRequest, (r) => r.ceilings.hono.batch.serverCpuUsPerRequest],
      note: () => 'CPU time is bent less than rates by other work on the machine' },
    { stage: 'system', measure: `backlog drain, ${options.workers} pollers, no ingest traffic`, unit: 'events/s', picks: [(r) => r.system.drain.eventsPerSecond],
      note: (r) => `${r.system.drain.events} events left after the ingest phases, mostly one-event messages` },
    { stage: 'system', measure: `end to end, ${options.events} events, ${Math.round(options.duplicates * 100)}% duplicates, ${perRequest}, ${options.publishers} publishers (${options.publisher})`,
      unit: 'events/s', picks: [(r) => r.system.endToEnd.eventsPerSecond],
      note: (r) => `first publish to last event stored: ${r.system.endToEnd.seconds.toFixed(2)} s; ` +
        busyElsewhere((r.system.endToEnd.cpu[ELSEWHERE] ?? 0) / r.system.endToEnd.seconds) },
    { stage: 'system', measure: 'ingest during end to end: accepted', unit: 'events/s', picks: [(r) => r.system.endToEnd.publish.eventsPerSecond],
      note: (r) => `${r.system.endToEnd.publish.refused} requests refused (429/503) and retried` },
    { stage: 'system', measure: 'ingest latency during end to end, p50 / p95 / p99', unit: 'ms', picks: triple((r) => r.system.endToEnd.publish.latency) },
    { stage: 'system', measure: `poller curve, ${options.pollers.join(' / ')} pollers, ${options.curveEvents} queued events`, unit: 'events/s', picks: options.pollers.map(pollerRate),
      ...(hasTwoAndOne ? { target: { text: '2 pollers beat 1', met: (m: number[]) => m[options.pollers.indexOf(2)]! > m[options.pollers.indexOf(1)]! } } : {}) },
    { stage: 'system', measure: 'peak RSS: ingest / process (end to end) / stats / busiest curve process', unit: 'MB',
      picks: [peak('ingest'), peak('process'), peak('stats'), (r) => Math.max(...r.system.pollers.map((p) => p.peakRssMb))],
      target: { text: 'each < 300 MB', met: (m) => m.every((mb) => mb < 300) } },
    { stage: 'system', measure: `one publisher client (its defaults) into npm start, ${options.clientEvents} events: accepted / stored`, unit: 'events/s',
      picks: [(r) => r.client.acceptedEventsPerSecond, (r) => r.client.storedEventsPerSecond],
      note: (r) => `${r.client.requests} requests, ${r.client.backpressure} answered 429; the runner's peak RSS ${Math.round(r.client.runner.peakRssMb)} MB` },
    { stage: 'ratio', measure: 'split deployment end to end / PostgreSQL ceiling', unit: '%', picks: [(r) => percent(r.system.endToEnd.eventsPerSecond, ceilingRate(r))],
      target: { text: '≥ 70%', met: ([p]) => p! >= 70 }, note: () => `publisher: ${options.publisher === 'wrk' ? 'wrk' : 'undici, in the bench process'}` },
    { stage: 'ratio', measure: 'PostgreSQL CPU an event, split deployment end to end / bare statement\'s a row', unit: 'x',
      picks: [(r) => postgresCpuRatio(r.system.endToEnd, r)], target: { text: '≤ 1.2x', met: ([x]) => x! <= 1.2 } },
    { stage: 'ratio', measure: 'ingest 1-event / bare Hono 1-event', unit: '%', picks: [(r) => percent(r.system.ingest.single.requestsPerSecond, r.ceilings.hono.single.requestsPerSecond)],
      target: { text: '≥ 50%', met: ([p]) => p! >= 50 } },
    { stage: 'ratio', measure: 'server CPU a 1-event request: bare Hono / ingest', unit: '%',
      picks: [(r) => percent(r.ceilings.hono.single.serverCpuUsPerRequest, r.system.ingest.single.serverCpuUsPerRequest)],
      note: () => 'the ratio above in CPU, steadier on a busy machine' },
    { stage: 'ratio', measure: 'product storeMessages (best of 1, 2 connections) / PostgreSQL ceiling', unit: '%',
      picks: [(r) => percent(Math.max(...r.ceilings.productStore.map((s) => s.rowsPerSecond)), ceilingRate(r))] },
    ...(options.shards.length > 0 ? shardSpecs(options) : []),
    ...(options.start ? startSpecs(options) : []),
    { stage: 'check', measure: 'counters exact (received, unique, duplicates, per topic, per phase, invariant)', unit: 'rounds exact',
      picks: [(r) => (countersOf(r).every((c) => c.exact) ? 1 : 0)], combine: (exact) => Math.min(...exact), target: { text: 'every round', met: ([m]) => m === 1 },
      note: (r) => countersOf(r).map((c) => (c.exact ? `received ${c.stats.received}, stored ${c.rows}` : c.problems.join('; '))).join('; ') },
  ];
}

/** Every counter check of a round: the split deployment's, the publisher client's, each sharding setting's, then npm start's. */
export const countersOf = (r: RoundResult) => [r.system.counters, r.client.counters, ...r.shards.map((s) => s.counters), ...(r.start ? [r.start.counters] : [])];

/**
 * The sharding stage's rows (--shards): each measure with a number a setting, then each
 * as the ratio of every other setting to the first (above 1: more of it, so slower for a
 * latency or a cost, faster for a rate).
 */
function shardSpecs(options: BenchOptions): Spec[] {
  const [base, ...others] = options.shards as [number, ...number[]];
  const setting = (shards: number) => (r: RoundResult): ShardSetting => r.shards.find((s) => s.shards === shards)!;
  const each = (text: (s: ShardSetting) => string) => (r: RoundResult) => options.shards.map((n) => `${n}: ${text(setting(n)(r))}`).join('; ');
  const measures: Array<{ measure: string; unit: string; value: (s: ShardSetting) => number; note?: Spec['note'] }> = [
    { measure: 'ingest latency, 1 event a request, p50', unit: 'ms', value: (s) => s.single.latency.p50,
      note: each((s) => busyElsewhere(s.single.otherCores)) },
    { measure: 'ingest latency, 1 event a request, p99', unit: 'ms', value: (s) => s.single.latency.p99 },
    { measure: `ingest, ${perRequestOf(options)}`, unit: 'events/s', value: (s) => s.batch.eventsPerSecond },
    { measure: `backlog drain, ${options.workers} pollers`, unit: 'events/s', value: (s) => s.drain.eventsPerSecond,
      note: (r) => `${setting(base)(r).drain.events} events, from the moment the process function is let go` },
    { measure: 'idle process function CPU', unit: '% of a core', value: (s) => s.idle.processCpuPercent,
      note: each((s) => `redis-server ${s.idle.redisCpuPercent.toFixed(1)}% of a core, over ${s.idle.seconds.toFixed(1)} s of an empty queue`) },
    { measure: 'idle Redis commands (the scripts\' own counted)', unit: 'commands/s', value: (s) => s.idle.redisCommandsPerSecond },
    { measure: 'Redis commands a stored event, ingest and drain', unit: 'commands', value: (s) => s.commands.perStoredEvent,
      note: each((s) => `${s.commands.ingest} + ${s.commands.drain} for ${s.commands.storedEvents}`) },
  ];
  return [
    ...measures.map(({ measure, unit, value, note }): Spec => ({
      stage: 'system', measure: `QUEUE_SHARDS=${options.shards.join(' / ')}: ${measure}`, unit,
      picks: options.shards.map((n) => (r: RoundResult) => value(setting(n)(r))), ...(note ? { note } : {}),
    })),
    ...measures.map(({ measure, value }): Spec => ({
      stage: 'ratio', measure: `QUEUE_SHARDS=${others.join(' / ')} against ${base}: ${measure}`, unit: 'x',
      picks: others.map((n) => (r: RoundResult) => value(setting(n)(r)) / value(setting(base)(r))),
    })),
  ];
}

/** The npm start stage's rows (--start): the targets for it. */
function startSpecs(options: BenchOptions): Spec[] {
  const start = (r: RoundResult): StartResult => r.start!;
  const by = (r: RoundResult) => `publisher: ${start(r).publisher}`;
  return [
    { stage: 'ceiling', measure: `bare Hono POST, 1 event a request, by the npm start stage's publisher`, unit: 'requests/s',
      picks: [(r) => start(r).bareHono.requestsPerSecond], note: by },
    { stage: 'system', measure: `npm start, 1 event a request (${options.connections} connections)`, unit: 'requests/s',
      picks: [(r) => start(r).single.requestsPerSecond], note: (r) => `${by(r)}; ${busyElsewhere(start(r).single.otherCores)}` },
    { stage: 'system', measure: 'npm start latency at half that rate (paced), p50 / p95 / p99', unit: 'ms', picks: triple((r) => start(r).halfRate.latency),
      target: { text: 'p99 < 25 ms', met: ([, , p99]) => p99! < 25 }, note: () => 'paced from the bench process over raw keep-alive connections (wrk cannot pace)' },
    { stage: 'system', measure: `npm start end to end, ${options.events} events / a tenth of them, ${perRequestOf(options)}`, unit: 'events/s',
      picks: [(r) => start(r).endToEnd.eventsPerSecond, (r) => start(r).small.eventsPerSecond],
      note: (r) => `${by(r)}, ${options.publishers} connections; first request to last event stored: ${start(r).endToEnd.seconds.toFixed(2)} s; ` +
        `accepted at ${Math.round(start(r).endToEnd.publish.eventsPerSecond)} events/s; ` +
        busyElsewhere((start(r).endToEnd.cpu[ELSEWHERE] ?? 0) / start(r).endToEnd.seconds) },
    { stage: 'system', measure: 'npm start peak RSS (one process: HTTP and storage threads)', unit: 'MB', picks: [(r) => start(r).peakRssMb],
      target: { text: '< 300 MB', met: ([mb]) => mb! < 300 } },
    { stage: 'ratio', measure: 'npm start end to end / PostgreSQL ceiling', unit: '%', picks: [(r) => percent(start(r).endToEnd.eventsPerSecond, ceilingRate(r))],
      target: { text: '≥ 50% (goal 70%)', met: ([p]) => p! >= 50 } },
    { stage: 'ratio', measure: 'npm start 1-event / bare Hono 1-event, same publisher', unit: '%',
      picks: [(r) => percent(start(r).single.requestsPerSecond, start(r).bareHono.requestsPerSecond)], target: { text: '≥ 50%', met: ([p]) => p! >= 50 } },
    { stage: 'ratio', measure: 'server CPU a 1-event request: bare Hono / npm start', unit: '%',
      picks: [(r) => percent(start(r).bareHono.serverCpuUsPerRequest, start(r).single.serverCpuUsPerRequest)],
      note: () => 'the ratio above in CPU, steadier on a busy machine' },
    { stage: 'ratio', measure: 'PostgreSQL CPU an event, npm start end to end / bare statement\'s a row', unit: 'x',
      picks: [(r) => postgresCpuRatio(start(r).endToEnd, r)], target: { text: '≤ 1.2x', met: ([x]) => x! <= 1.2 } },
    { stage: 'ratio', measure: `npm start flatness: events/s at ${options.events} / at a tenth of them`, unit: '%',
      picks: [(r) => percent(start(r).endToEnd.eventsPerSecond, start(r).small.eventsPerSecond)],
      target: { text: 'within 15%', met: ([p]) => Math.abs(p! - 100) <= 15 } },
  ];
}

/** The table's rows, each a median over the rounds, with its target when the issue sets one. */
export function summaryRows(options: BenchOptions, rounds: readonly RoundResult[]): SummaryRow[] {
  const last = rounds.at(-1)!;
  return specs(options).map((spec) => {
    const medians = spec.picks.map((pick) => (spec.combine ?? median)(rounds.map(pick)));
    const firsts = rounds.map(spec.picks[0]!);
    return {
      stage: spec.stage,
      measure: spec.measure,
      unit: spec.unit,
      medians,
      range: [Math.min(...firsts), Math.max(...firsts)],
      target: spec.target?.text ?? '',
      met: spec.target ? spec.target.met(medians) : null,
      note: spec.note?.(last) ?? '',
    };
  });
}
