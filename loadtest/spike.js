// k6 run loadtest/spike.js: a paced baseline (BASELINE_EVENTS at RATE events/s from
// VUS) and, SURGE_AT into it, a sudden surge of SURGE_EVENTS from SURGE_VUS with no
// pacing at all. The queue limit answers the surge with 429 + Retry-After; every
// publisher waits as told and sends the same batch again, so nothing is lost and
// /stats is still exact at the end. Other settings as in burst.js.
import exec from 'k6/execution';
import { paced, publishRange, settingsFrom, startRun, summaryOf, thresholdsFor, verifyRun } from './lib/k6-publisher.js';

const baselineEvents = Number(__ENV.BASELINE_EVENTS || 10000);
const surgeEvents = Number(__ENV.SURGE_EVENTS || 30000);
// The plan covers the baseline and the surge exactly: EVENTS is theirs to set, not the caller's.
const settings = settingsFrom({ ...__ENV, EVENTS: String(baselineEvents + surgeEvents) }, { RATE: '500', BATCH: '100', VUS: '4' });
const surgeVus = Number(__ENV.SURGE_VUS || 64);
const baselineBatches = Math.ceil(baselineEvents / settings.batch);
const surgeBatches = Math.ceil(surgeEvents / settings.batch);

export const options = {
  scenarios: {
    baseline: {
      executor: 'shared-iterations',
      exec: 'baseline',
      vus: Math.min(settings.vus, baselineBatches),
      iterations: baselineBatches,
      maxDuration: '15m',
    },
    surge: {
      executor: 'shared-iterations',
      exec: 'surge',
      startTime: __ENV.SURGE_AT || '10s',
      vus: Math.min(surgeVus, surgeBatches),
      iterations: surgeBatches,
      maxDuration: '15m',
    },
  },
  // Latency under a surge is allowed to grow; losing or failing batches is not.
  thresholds: thresholdsFor(settings, { p95Ms: 3000 }),
};

export function setup() {
  return startRun(settings);
}

// Baseline positions come first, surge positions after them: the plan is covered exactly once.
export function baseline(data) {
  const from = exec.scenario.iterationInTest * settings.batch;
  const interval = (Math.min(settings.vus, baselineBatches) * settings.batch) / settings.rate;
  paced(interval, () => publishRange(settings, data, from, Math.min(from + settings.batch, baselineEvents)));
}

export function surge(data) {
  const from = baselineEvents + exec.scenario.iterationInTest * settings.batch;
  publishRange(settings, data, from, Math.min(from + settings.batch, baselineEvents + surgeEvents));
}

export function teardown(data) {
  verifyRun(settings, data);
}

export function handleSummary(data) {
  return summaryOf(data, settings, 'spike');
}
