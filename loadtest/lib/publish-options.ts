import { parseOptions, UsageError } from '../../shared/cli/command-line.ts';

export { UsageError };

export const USAGE = `npm run publish -- [options]

Publishes a generated run of events (the k6 scripts' generator) and compares
what it sent with what /stats gained.

  --events N         events to send (default 20000)
  --duplicates R     share of duplicates, 0 <= R < 1 (default 0.3)
  --batch N          events per request, 1-1000 (default 100)
  --concurrency N    requests in flight (default 16)
  --url URL          the gateway (http://host:8080), or an ingest URL ending in
                     /publish or /function/ingest (default http://127.0.0.1:8080)
  --stats-url URL    where to read the counters (default: derived from --url)
  --seed N           the generator's seed (default 1)
  --run-id ID        prefix of the event ids (default: fresh for every run)
  --topics a,b,c     topics to spread the events over
  --api-key KEY      ingest API key (INGEST_API_KEYS)
  --read-key KEY     stats API key (READ_API_KEYS)
  --wait S           seconds to wait for pending to reach 0 (default 120)
  --max-retries N    retries per batch of any retryable failure: 429/503, 5xx, no answer (default 30)
  --check            exit 1 when /stats does not match what was sent
  --json             print the report as JSON`;

export type PublishOptions = {
  events: number;
  duplicates: number;
  batch: number;
  concurrency: number;
  url: string;
  statsUrl: string;
  seed: number;
  runId: string;
  topics?: string[];
  apiKey?: string;
  readKey?: string;
  waitSeconds: number;
  maxRetries: number;
  check: boolean;
  json: boolean;
};

/**
 * The ingest URL and the stats URL of a --url: a bare gateway gets /publish and
 * /stats; an ingest path gets its stats twin; anything else needs --stats-url.
 *
 * @example endpointsOf('http://localhost:8080') // { url: '.../publish', statsUrl: '.../stats' }
 */
export function endpointsOf(url: string, statsUrl?: string): { url: string; statsUrl: string } {
  if (!URL.canParse(url)) throw new UsageError(`--url is not a URL: ${url}`);
  const target = new URL(url);
  const path = target.pathname.replace(/\/+$/, '');
  if (path === '') target.pathname = '/publish';
  let derived: string | undefined;
  if (path === '' || path.endsWith('/publish')) derived = new URL(target.pathname.replace(/\/publish$/, '/stats'), target).href;
  else if (/\/function\/ingest$/.test(path)) derived = new URL(path.replace(/\/function\/ingest$/, '/function/stats'), target).href;
  const stats = statsUrl ?? derived;
  if (!stats) throw new UsageError(`cannot tell where /stats is for ${url}: give --stats-url`);
  if (!URL.canParse(stats)) throw new UsageError(`--stats-url is not a URL: ${stats}`);
  return { url: target.href, statsUrl: stats };
}

function numberOption(name: string, raw: string | undefined, fallback: number, { min, max, whole }: { min: number; max: number; whole: boolean }) {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  const fits = raw.trim() !== '' && Number.isFinite(value) && (!whole || Number.isInteger(value)) && value >= min && value <= max;
  if (!fits) throw new UsageError(`--${name} must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}, not "${raw}"`);
  return value;
}

/** Reads the command line; throws a UsageError that names the bad option. */
export function parsePublishArgs(argv: string[], now = Date.now()): PublishOptions {
  const { values } = parseOptions({
    args: argv,
    options: {
      events: { type: 'string' },
      duplicates: { type: 'string' },
      batch: { type: 'string' },
      concurrency: { type: 'string' },
      url: { type: 'string' },
      'stats-url': { type: 'string' },
      seed: { type: 'string' },
      'run-id': { type: 'string' },
      topics: { type: 'string' },
      'api-key': { type: 'string' },
      'read-key': { type: 'string' },
      wait: { type: 'string' },
      'max-retries': { type: 'string' },
      check: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const whole = (min: number, max = Number.MAX_SAFE_INTEGER) => ({ min, max, whole: true });
  const seed = numberOption('seed', values.seed, 1, whole(0));
  const topics = values.topics?.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  if (topics !== undefined && topics.length === 0) throw new UsageError('--topics needs at least one topic');
  return {
    events: numberOption('events', values.events, 20_000, whole(1)),
    duplicates: numberOption('duplicates', values.duplicates, 0.3, { min: 0, max: 0.99, whole: false }),
    batch: numberOption('batch', values.batch, 100, whole(1, 1000)),
    concurrency: numberOption('concurrency', values.concurrency, 16, whole(1, 1024)),
    ...endpointsOf(values.url ?? 'http://127.0.0.1:8080', values['stats-url']),
    seed,
    // Fresh event ids by default, so the check is exact on a database that already holds events.
    runId: values['run-id'] ?? `publish-${seed}-${now.toString(36)}`,
    ...(topics ? { topics } : {}),
    ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
    ...(values['read-key'] ? { readKey: values['read-key'] } : {}),
    waitSeconds: numberOption('wait', values.wait, 120, whole(0)),
    maxRetries: numberOption('max-retries', values['max-retries'], 30, whole(0)),
    check: values.check,
    json: values.json,
  };
}
