// What /stats should show after a run, and how it compares with what it shows:
// shared by the k6 scripts and the Node publisher. Plain ES module.
import { expectedCounts } from './events.js';

/** What a complete run of `plan` must add to /stats. */
export function expectationOf(plan) {
  return { sent: plan.total, ...expectedCounts(plan) };
}

const topicField = (stats, topic, field) => (stats.topics ?? []).find((t) => t.topic === topic)?.[field] ?? 0;

/**
 * Compares what a run added to /stats (`after` minus `before`) with what it sent.
 * Exact only when nothing else published meanwhile and `after` was read once the
 * system was quiet (pending 0).
 */
export function compareStats(expected, before, after) {
  const delta = (field) => after[field] - before[field];
  const row = (name, want, got) => ({ name, expected: want, observed: got, ok: want === got });
  const rows = [
    row('received', expected.sent, delta('received')),
    row('unique_processed', expected.unique, delta('unique_processed')),
    row('duplicate_dropped', expected.duplicates, delta('duplicate_dropped')),
    row('dead_lettered', 0, delta('dead_lettered')),
    row('pending', 0, after.pending),
  ];
  for (const topic of Object.keys(expected.topics).sort()) {
    const counts = expected.topics[topic];
    rows.push(row(`${topic} unique`, counts.unique, topicField(after, topic, 'unique_processed') - topicField(before, topic, 'unique_processed')));
    rows.push(row(`${topic} duplicates`, counts.duplicates, topicField(after, topic, 'duplicate_dropped') - topicField(before, topic, 'duplicate_dropped')));
  }
  return { ok: rows.every((r) => r.ok), rows };
}

/** The comparison as aligned text lines, one per counter. */
export function formatComparison(result) {
  const width = Math.max(...result.rows.map((r) => r.name.length));
  const header = `  ${'counter'.padEnd(width)}  ${'expected'.padStart(9)}  ${'/stats'.padStart(9)}`;
  const lines = result.rows.map(
    (r) => `  ${r.name.padEnd(width)}  ${String(r.expected).padStart(9)}  ${String(r.observed).padStart(9)}  ${r.ok ? 'ok' : 'MISMATCH'}`,
  );
  return [header, ...lines, result.ok ? '  /stats matches what was sent' : '  /stats does NOT match what was sent'];
}
