// What the three k6 scripts share: their settings, sending one batch of the plan
// with polite retries, checking /stats at the end, and the summary. Runs in k6
// only (it imports k6's modules); the event generator and the /stats comparison
// are the plain modules the Node publisher uses too.
import { check, sleep } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { eventsBetween, planRun } from './events.js';
import { retryDelayMs } from './retry-policy.js';
import { compareStats, expectationOf, formatComparison } from './stats-check.js';

const eventsSent = new Counter('events_sent');
const eventsAbandoned = new Counter('events_abandoned');
const backpressureAnswers = new Counter('backpressure_answers');

// 200 (GET /stats) and 202 (accepted) are successes; a 429 is the system asking
// for a pause, answered by waiting, not a failed request.
http.setResponseCallback(http.expectedStatuses(200, 202, 429));

const DEFAULTS = {
  BASE_URL: 'http://localhost:8080',
  EVENTS: '20000',
  DUPLICATES: '0.3',
  BATCH: '100',
  VUS: '16',
  SEED: '1',
  MAX_RETRIES: '30',
  STATS_WAIT: '120',
};

/**
 * The run's settings from k6's environment (`-e NAME=value` or the container's
 * variables) over the script's defaults. An empty value counts as unset.
 */
export function settingsFrom(env, defaults = {}) {
  const raw = (name) => [env[name], defaults[name], DEFAULTS[name]].find((v) => v !== undefined && v !== '');
  const number = (name, { min = 0, max = Number.MAX_SAFE_INTEGER, whole = true } = {}) => {
    const value = raw(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max || (whole && !Number.isInteger(n))) {
      throw new Error(`${name} must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}, not "${value}"`);
    }
    return n;
  };
  const base = String(raw('BASE_URL')).replace(/\/+$/, '');
  return {
    publishUrl: raw('PUBLISH_URL') ?? `${base}/publish`,
    statsUrl: raw('STATS_URL') ?? `${base}/stats`,
    events: number('EVENTS', { min: 1 }),
    duplicates: number('DUPLICATES', { max: 0.99, whole: false }),
    batch: number('BATCH', { min: 1, max: 1000 }),
    vus: number('VUS', { min: 1 }),
    // Events per second across all VUs; unset: as fast as the VUs go.
    rate: number('RATE', { min: 1, whole: false }),
    seed: number('SEED'),
    runId: raw('RUN_ID'),
    ingestKey: raw('INGEST_API_KEY'),
    readKey: raw('READ_API_KEY'),
    maxRetries: number('MAX_RETRIES'),
    statsCheck: raw('STATS_CHECK') !== 'off',
    statsWaitSeconds: number('STATS_WAIT', { min: 1 }),
    summaryJson: raw('SUMMARY_JSON'),
  };
}

/** Thresholds every script keeps: few failed requests, no batch given up, and /stats exact when checked. */
export function thresholdsFor(settings, { p95Ms }) {
  return {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{name:publish}': [`p(95)<${p95Ms}`],
    events_abandoned: ['count==0'],
    ...(settings.statsCheck ? { 'checks{check:stats}': ['rate==1'] } : {}),
  };
}

const bearer = (key) => (key ? { Authorization: `Bearer ${key}` } : {});

function readStats(settings) {
  const response = http.get(settings.statsUrl, { headers: bearer(settings.readKey), tags: { name: 'stats' } });
  if (response.status !== 200) throw new Error(`GET ${settings.statsUrl} answered ${response.status}: ${String(response.body).slice(0, 200)}`);
  return response.json();
}

/**
 * setup(): the run's id (fresh keys, so the check is exact on a database that
 * already holds events) and /stats before it starts.
 */
export function startRun(settings) {
  const runId = settings.runId ?? `k6-${Date.now().toString(36)}`;
  return { runId, before: settings.statsCheck ? readStats(settings) : null };
}

// Every VU rebuilds the same plan from the settings and the run id setup() chose.
let cachedPlan;
export function planOf(settings, data) {
  if (!cachedPlan || cachedPlan.runId !== data.runId) {
    cachedPlan = planRun({ total: settings.events, duplicateRatio: settings.duplicates, seed: settings.seed, runId: data.runId });
  }
  return cachedPlan;
}

/**
 * Sends the events at positions [from, to) as one request. A 429 or 503 is waited
 * out as its Retry-After says and the same batch is sent again; after MAX_RETRIES,
 * or on an answer a retry cannot mend, the batch is counted as abandoned.
 */
export function publishRange(settings, data, from, to) {
  const plan = planOf(settings, data);
  if (from >= plan.total) return;
  const events = eventsBetween(plan, from, to);
  const body = JSON.stringify(events);
  const params = { headers: { 'Content-Type': 'application/json', ...bearer(settings.ingestKey) }, tags: { name: 'publish' } };
  for (let attempt = 0; ; attempt++) {
    const response = http.post(settings.publishUrl, body, params);
    if (response.status === 202) {
      eventsSent.add(events.length);
      check(response, { 'batch accepted': () => true });
      return;
    }
    if (response.status === 429) backpressureAnswers.add(1);
    const wait = attempt < settings.maxRetries ? retryDelayMs(response.status, response.headers['Retry-After'], attempt) : null;
    if (wait === null) {
      eventsAbandoned.add(events.length);
      check(response, { 'batch accepted': () => false });
      console.error(`events ${from}-${to - 1}: gave up after ${attempt + 1} attempts, last answer ${response.status} ${String(response.body).slice(0, 200)}`);
      return;
    }
    sleep(wait / 1000);
  }
}

/** Runs `send` and then sleeps out the rest of `seconds`, so that paced VUs keep a steady rate. */
export function paced(seconds, send) {
  const started = Date.now();
  send();
  const rest = seconds - (Date.now() - started) / 1000;
  if (rest > 0) sleep(rest);
}

/**
 * teardown(): waits until nothing is pending (up to STATS_WAIT seconds), then
 * compares what /stats gained with what the run sent, prints the table and
 * records it as the `stats` check.
 */
export function verifyRun(settings, data) {
  if (!settings.statsCheck) return;
  const deadline = Date.now() + settings.statsWaitSeconds * 1000;
  let after = readStats(settings);
  while (after.pending > 0 && Date.now() < deadline) {
    sleep(0.5);
    after = readStats(settings);
  }
  const result = compareStats(expectationOf(planOf(settings, data)), data.before, after);
  console.log(['/stats after the run, against what it sent:', ...formatComparison(result)].join('\n'));
  check(result, { 'stats match what was sent': (r) => r.ok }, { check: 'stats' });
}

/** handleSummary(): what was sent (unique and duplicate counts) and how it went, on stdout. */
export function summaryOf(data, settings, scenario) {
  const value = (metric, field) => data.metrics[metric]?.values?.[field] ?? 0;
  const plan = planRun({ total: settings.events, duplicateRatio: settings.duplicates, seed: settings.seed });
  const expected = expectationOf(plan);
  const sent = value('events_sent', 'count');
  const complete = sent === plan.total;
  const lines = [`${scenario}: sent ${sent} of ${plan.total} events to ${settings.publishUrl} in ${value('http_reqs', 'count')} requests`];
  if (complete) {
    lines.push(`  ${expected.unique} unique, ${expected.duplicates} duplicates`);
    for (const topic of Object.keys(expected.topics).sort()) {
      const t = expected.topics[topic];
      lines.push(`  ${topic}: ${t.unique} unique, ${t.duplicates} duplicates`);
    }
  } else {
    lines.push(`  INCOMPLETE: ${value('events_abandoned', 'count')} events abandoned, ${plan.total - sent} not accepted; the unique/duplicate split of a partial run is not known`);
  }
  lines.push(`  429 answers waited out: ${value('backpressure_answers', 'count')}`);
  lines.push(`  publish p95 ${Math.round(value('http_req_duration{name:publish}', 'p(95)'))} ms, failed requests ${(value('http_req_failed', 'rate') * 100).toFixed(2)}%`);
  if (settings.statsCheck) {
    const stats = data.metrics['checks{check:stats}'];
    lines.push(`  /stats check: ${stats && stats.values.rate === 1 ? 'passed' : 'FAILED (see the table printed at teardown)'}`);
  }
  const report = { scenario, sent, total: plan.total, complete, expected: complete ? expected : null };
  return {
    stdout: `${lines.join('\n')}\n`,
    ...(settings.summaryJson ? { [settings.summaryJson]: JSON.stringify(report, null, 2) } : {}),
  };
}
