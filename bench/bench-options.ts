import { parseOptions, UsageError } from '../shared/cli/command-line.ts';
import { findWrk, WRK_MISSING } from './load/wrk.ts';
import type { PublisherName } from './system/end-to-end.ts';

export type BenchOptions = Readonly<{
  /** Events of the end-to-end run. */
  events: number;
  /** Share of those that repeat an earlier key, exactly. */
  duplicates: number;
  /** Events a request in the end-to-end run, the batch ingest phase and the poller curve's messages. */
  batch: number;
  /** Concurrent publishers (one connection each) in the end-to-end run. */
  publishers: number;
  /** Claim loops (WORKERS) of the process function in the end-to-end run. */
  workers: number;
  /** Claim loops of each point of the poller curve. */
  pollers: readonly number[];
  /** Events queued for each point of the poller curve. */
  curveEvents: number;
  /** Events one publisher client sends into `npm start`. */
  clientEvents: number;
  /** Whole rounds, each on a fresh database; the table shows medians. */
  repeats: number;
  /** Rows of each PostgreSQL ceiling run (the first events of the end-to-end data). */
  ceilingRows: number;
  /** Rows a statement in the PostgreSQL ceiling runs. */
  statementRows: number;
  /** Requests of the one-event ingest measurement (and of the bare Hono one). */
  singleRequests: number;
  /** Requests of the batch ingest measurement (and of the bare Hono one). */
  batchRequests: number;
  /** Connections of the closed-loop HTTP measurements. */
  connections: number;
  /** CPU-profile every spawned process and summarise where the time went. */
  cpuProf: boolean;
  /** Run the functions compiled, as the image does, instead of through tsx. */
  compiled: boolean;
  /** Measure `npm start` (runner/local.ts, one process) too, after the split deployment. */
  start: boolean;
  /** QUEUE_SHARDS settings of the sharding stage, the first the baseline; empty: no such stage. */
  shards: readonly number[];
  /** One-event requests of each sharding setting. */
  shardRequests: number;
  /** Batch requests of each sharding setting. */
  shardBatches: number;
  /** Seconds each sharding setting's process function is watched idle. */
  idleSeconds: number;
  /** Who sends the requests of the npm start stage. */
  publisher: PublisherName;
  /** Where results go. */
  out: string;
  seed: number;
  /** LOG_LEVEL of the spawned functions: info, as they run by default. */
  logLevel: string;
}>;

export const DEFAULT_OPTIONS: BenchOptions = Object.freeze({
  events: 200_000,
  duplicates: 0.3,
  batch: 100,
  publishers: 8,
  workers: 2,
  pollers: [1, 2, 4],
  curveEvents: 100_000,
  clientEvents: 100_000,
  repeats: 1,
  ceilingRows: 100_000,
  statementRows: 500,
  singleRequests: 20_000,
  batchRequests: 1_000,
  connections: 32,
  cpuProf: false,
  compiled: false,
  start: false,
  shards: [],
  shardRequests: 2_000,
  shardBatches: 200,
  idleSeconds: 5,
  publisher: 'wrk',
  out: 'bench/results',
  seed: 1,
  logLevel: 'info',
});

export const USAGE = `npm run bench -- [options]
  --events N           end-to-end events (default ${DEFAULT_OPTIONS.events})
  --duplicates R       duplicate ratio, 0 to 0.99 (default ${DEFAULT_OPTIONS.duplicates})
  --batch N            events a request for batch publishing, 1 to 1000 (default ${DEFAULT_OPTIONS.batch})
  --publishers N       concurrent end-to-end publishers (default ${DEFAULT_OPTIONS.publishers})
  --workers N          claim loops of the process function end to end (default ${DEFAULT_OPTIONS.workers})
  --pollers A,B,C      poller curve points (default ${DEFAULT_OPTIONS.pollers.join(',')})
  --curve-events N     events queued for each curve point (default ${DEFAULT_OPTIONS.curveEvents})
  --client-events N    events one publisher client sends into npm start (default ${DEFAULT_OPTIONS.clientEvents})
  --repeats N          rounds; the table shows medians (default ${DEFAULT_OPTIONS.repeats})
  --ceiling-rows N     rows of each PostgreSQL ceiling run (default ${DEFAULT_OPTIONS.ceilingRows})
  --statement-rows N   rows a statement in the ceiling runs (default ${DEFAULT_OPTIONS.statementRows})
  --single-requests N  one-event requests measured against ingest and bare Hono (default ${DEFAULT_OPTIONS.singleRequests})
  --batch-requests N   batch requests measured against ingest and bare Hono (default ${DEFAULT_OPTIONS.batchRequests})
  --connections N      HTTP connections of the rate measurements (default ${DEFAULT_OPTIONS.connections})
  --cpu-prof           CPU-profile the spawned processes (slower; numbers marked)
  --compiled           run the functions compiled by infra/build.sh, as the image does, not through tsx
  --start              measure npm start (one process) too: 1-event requests against it and a bare Hono
                       handler, latency at half that rate, end to end on --events and on a tenth of them
  --shards A,B         the sharding stage, off by default: the split deployment's ingest, backlog drain and
                       idle polling with QUEUE_SHARDS=A, then B (and so on), on a Redis server of the bench's
                       own; ratios against A (try 1,3: on one Redis, shards only add round trips)
  --shard-requests N   one-event requests of each sharding setting (default ${DEFAULT_OPTIONS.shardRequests})
  --shard-batches N    batch requests of each sharding setting (default ${DEFAULT_OPTIONS.shardBatches})
  --idle-seconds N     how long each sharding setting's process function is watched idle (default ${DEFAULT_OPTIONS.idleSeconds})
  --publisher P        who sends the end-to-end runs and the npm start stage's requests: wrk (the
                       default when installed: apt-get install -y wrk) or node (autocannon and undici,
                       on the same cores as the system; the default without wrk, except with --start)
  --out DIR            results directory (default ${DEFAULT_OPTIONS.out})
  --seed N             event generator seed (default ${DEFAULT_OPTIONS.seed})
  --log-level L        LOG_LEVEL of the functions (default ${DEFAULT_OPTIONS.logLevel})`;

const INTEGERS = {
  events: [1, 100_000_000], batch: [1, 1000], publishers: [1, 1000], workers: [1, 64], 'curve-events': [1, 100_000_000],
  'client-events': [1, 100_000_000],
  repeats: [1, 99], 'ceiling-rows': [2, 100_000_000], 'statement-rows': [1, 10_000], 'single-requests': [1, 100_000_000],
  'batch-requests': [1, 10_000_000], connections: [1, 1000], seed: [0, 2 ** 31],
  'shard-requests': [1, 100_000_000], 'shard-batches': [1, 10_000_000], 'idle-seconds': [1, 600],
} as const;

/**
 * The options of `npm run bench`, checked; a bad one throws a UsageError naming it, and so does
 * `--start` with wrk as the publisher when no wrk is on the PATH (before anything is measured).
 *
 * @example parseBenchArgs(['--events', '1000000', '--repeats', '3'])
 */
export function parseBenchArgs(argv: readonly string[], env: { PATH?: string | undefined } = process.env): BenchOptions {
  const strings = Object.fromEntries([...Object.keys(INTEGERS), 'duplicates', 'pollers', 'shards', 'out', 'log-level'].map((name) => [name, { type: 'string' as const }]));
  const { values }: { values: Record<string, string | boolean | undefined> } =
    parseOptions({ args: [...argv], options: { ...strings, publisher: { type: 'string' }, 'cpu-prof': { type: 'boolean' }, compiled: { type: 'boolean' }, start: { type: 'boolean' } } });
  const problems: string[] = [];
  const integer = (name: keyof typeof INTEGERS, fallback: number) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const [min, max] = INTEGERS[name];
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`--${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
  const d = DEFAULT_OPTIONS;
  const duplicates = values.duplicates === undefined ? d.duplicates : Number(values.duplicates);
  if (!(duplicates >= 0 && duplicates < 1)) problems.push('--duplicates must be at least 0 and below 1');
  /** A comma-separated list of distinct whole numbers from 1 to `max`, at least `least` of them. */
  const list = (name: 'pollers' | 'shards', fallback: readonly number[], max: number, least: number) => {
    const raw = values[name];
    if (typeof raw !== 'string') return fallback;
    const numbers = raw.split(',').map(Number);
    if (numbers.length < least || numbers.some((n) => !Number.isInteger(n) || n < 1 || n > max) || new Set(numbers).size !== numbers.length) {
      problems.push(`--${name} must be ${least > 1 ? `at least ${least} ` : ''}distinct whole numbers from 1 to ${max}, comma-separated`);
    }
    return numbers;
  };
  const pollers = list('pollers', d.pollers, 64, 1);
  // The first setting is what the others are held against: a ratio needs two.
  const shards = list('shards', d.shards, 256, 2);
  // wrk when it is there; without it, an explicit --publisher wrk or the npm start stage (whose
  // figures the issue states with a C publisher) is an error that says how to get it, and a plain
  // run falls back to Node, which the table then names.
  const hasWrk = findWrk(env.PATH) !== null;
  const publisher = values.publisher ?? (hasWrk || values.start === true ? 'wrk' : 'node');
  if (publisher !== 'wrk' && publisher !== 'node') problems.push('--publisher must be wrk or node');
  else if (publisher === 'wrk' && !hasWrk) problems.push(WRK_MISSING);
  const options: BenchOptions = Object.freeze({
    events: integer('events', d.events),
    duplicates,
    batch: integer('batch', d.batch),
    publishers: integer('publishers', d.publishers),
    workers: integer('workers', d.workers),
    pollers,
    curveEvents: integer('curve-events', d.curveEvents),
    clientEvents: integer('client-events', d.clientEvents),
    repeats: integer('repeats', d.repeats),
    ceilingRows: integer('ceiling-rows', d.ceilingRows),
    statementRows: integer('statement-rows', d.statementRows),
    singleRequests: integer('single-requests', d.singleRequests),
    batchRequests: integer('batch-requests', d.batchRequests),
    connections: integer('connections', d.connections),
    cpuProf: values['cpu-prof'] === true,
    compiled: values.compiled === true,
    start: values.start === true,
    shards,
    shardRequests: integer('shard-requests', d.shardRequests),
    shardBatches: integer('shard-batches', d.shardBatches),
    idleSeconds: integer('idle-seconds', d.idleSeconds),
    publisher: publisher as PublisherName,
    out: typeof values.out === 'string' ? values.out : d.out,
    seed: integer('seed', d.seed),
    logLevel: typeof values['log-level'] === 'string' ? values['log-level'] : d.logLevel,
  });
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return options;
}
