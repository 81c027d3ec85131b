import { planRun } from './lib/events.js';
import { PublishError, sendPlan } from './lib/batch-sender.ts';
import { progressBar } from './lib/progress-bar.ts';
import { readCommandLine } from '../shared/cli/command-line.ts';
import { parsePublishArgs, USAGE } from './lib/publish-options.ts';
import { readStats, readStatsWhenQuiet } from './lib/stats-client.ts';
import { compareStats, expectationOf, formatComparison } from './lib/stats-check.js';

// `npm run publish -- --events N --duplicates 0.3 --batch 100 --concurrency 16 --url ...`:
// the k6 burst for machines without k6. Progress goes to stderr, the report to stdout.

const options = readCommandLine(USAGE, parsePublishArgs);

const plan = planRun({ total: options.events, duplicateRatio: options.duplicates, seed: options.seed, runId: options.runId, ...(options.topics ? { topics: options.topics } : {}) });
const expected = expectationOf(plan);

try {
  const before = await readStats(options.statsUrl, options.readKey);
  if (before.pending > 0) console.error(`warning: ${before.pending} events were already pending; the comparison is exact only on a quiet system`);
  console.error(`publishing ${plan.total} events (${expected.unique} unique, ${expected.duplicates} duplicates) to ${options.url}, ${options.batch} a request, ${options.concurrency} at once`);

  const bar = progressBar(plan.total, process.stderr);
  const started = Date.now();
  const sent = await sendPlan(plan, {
    url: options.url,
    batch: options.batch,
    concurrency: options.concurrency,
    maxRetries: options.maxRetries,
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    onProgress: (p) => bar.update(p),
  });
  const elapsedMs = Date.now() - started;
  bar.done(sent);

  const after = await readStatsWhenQuiet(options.statsUrl, options.readKey, options.waitSeconds);
  const comparison = compareStats(expected, before, after);
  const report = {
    url: options.url,
    stats_url: options.statsUrl,
    run_id: options.runId,
    sent: sent.sentEvents,
    requests: sent.requests,
    retries: sent.retries,
    backpressure: sent.backpressure,
    elapsed_ms: elapsedMs,
    events_per_second: Math.round(sent.sentEvents / Math.max(elapsedMs / 1000, 0.001)),
    expected,
    before,
    after,
    match: comparison.ok,
    comparison: comparison.rows,
  };
  if (options.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(`sent ${report.sent} events in ${report.requests} requests (${report.backpressure} answered 429, ${report.retries} retried) in ${(elapsedMs / 1000).toFixed(1)} s, ${report.events_per_second} events/s`);
    console.log(`/stats at ${options.statsUrl}, before and after, against what was sent:`);
    console.log(formatComparison(comparison).join('\n'));
  }
  process.exitCode = options.check && !comparison.ok ? 1 : 0;
} catch (error) {
  console.error(error instanceof PublishError ? `publish stopped: ${error.message}` : `publish failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
