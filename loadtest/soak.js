// k6 run loadtest/soak.js: a steady RATE (events/s, default 1,000) for DURATION
// (default 5m), paced per VU, then /stats checked. EVENTS, if set, replaces
// RATE x DURATION. Other settings as in burst.js.
import exec from 'k6/execution';
import { paced, publishRange, settingsFrom, startRun, summaryOf, thresholdsFor, verifyRun } from './lib/k6-publisher.js';

const seconds = (text) => {
  const match = /^(\d+)(s|m|h)$/.exec(text);
  if (!match) throw new Error(`DURATION must look like 90s, 5m or 1h, not "${text}"`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2]];
};
const duration = seconds(__ENV.DURATION || '5m');
const rate = Number(__ENV.RATE || 1000);
const settings = settingsFrom(__ENV, { RATE: String(rate), EVENTS: String(Math.round(rate * duration)), BATCH: '100', VUS: '8' });
const batches = Math.ceil(settings.events / settings.batch);
const vus = Math.min(settings.vus, batches);

export const options = {
  scenarios: {
    // Each VU sends one batch every VUS x BATCH / RATE seconds: RATE events/s in all,
    // and every batch exactly once, so the totals stay exact even when the system lags.
    soak: { executor: 'shared-iterations', vus, iterations: batches, maxDuration: `${duration * 2 + 60}s` },
  },
  thresholds: thresholdsFor(settings, { p95Ms: 500 }),
};

export function setup() {
  return startRun(settings);
}

export default function (data) {
  const from = exec.scenario.iterationInTest * settings.batch;
  paced((vus * settings.batch) / settings.rate, () => publishRange(settings, data, from, from + settings.batch));
}

export function teardown(data) {
  verifyRun(settings, data);
}

export function handleSummary(data) {
  return summaryOf(data, settings, 'soak');
}
