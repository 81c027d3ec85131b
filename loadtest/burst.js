// k6 run loadtest/burst.js: the seed's scenario. 20,000 events with 30% duplicates
// over four topics, in batches from concurrent VUs, then /stats checked against
// what was sent. Settings: BASE_URL, EVENTS, DUPLICATES, BATCH, VUS, RATE (events/s,
// unset: as fast as possible), SEED, RUN_ID, INGEST_API_KEY, READ_API_KEY,
// STATS_CHECK=off, STATS_WAIT (s), MAX_RETRIES, SUMMARY_JSON (a file to write).
import exec from 'k6/execution';
import { paced, publishRange, settingsFrom, startRun, summaryOf, thresholdsFor, verifyRun } from './lib/k6-publisher.js';

const settings = settingsFrom(__ENV, { EVENTS: '20000', DUPLICATES: '0.3', BATCH: '100', VUS: '16' });
const batches = Math.ceil(settings.events / settings.batch);
const vus = Math.min(settings.vus, batches);

export const options = {
  scenarios: {
    // Every batch is sent exactly once, whichever VU takes it: the totals stay exact.
    burst: { executor: 'shared-iterations', vus, iterations: batches, maxDuration: '15m' },
  },
  thresholds: thresholdsFor(settings, { p95Ms: 1000 }),
};

export function setup() {
  return startRun(settings);
}

export default function (data) {
  const from = exec.scenario.iterationInTest * settings.batch;
  paced(settings.rate ? (vus * settings.batch) / settings.rate : 0, () => publishRange(settings, data, from, from + settings.batch));
}

export function teardown(data) {
  verifyRun(settings, data);
}

export function handleSummary(data) {
  return summaryOf(data, settings, 'burst');
}
