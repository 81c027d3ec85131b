import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { watchQueue } from '../../shared/metrics/queue-gauges.ts';
import { createHarness, event, postJson, type Harness } from '../../dev/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness('every_metric');
  watchQueue(h.metrics, h.queue);
});
afterAll(() => h.cleanup());

/** The metrics the README's table lists: a new line there without a check here fails this test. */
const listed = [...readFileSync(new URL('../../README.md', import.meta.url), 'utf8').matchAll(/^\| `(aggregator_[a-z_]+)/gm)].map((m) => m[1]);

/** The sum of a metric's series (every label set) in Prometheus text. */
const total = (text: string, name: string) =>
  text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`)).reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

it('moves every metric the README lists, read from GET /metrics after traffic', async () => {
  const ev = (id: string, extra: Record<string, unknown> = {}) => event({ topic: 'metrics', event_id: id, ...extra });
  expect((await postJson(h.ingest, '/', [ev('a'), ev('b'), ev('a')])).status).toBe(202);
  expect((await postJson(h.ingest, '/', [ev('bad', { topic: 'no spaces allowed' })])).status).toBe(400);
  expect((await postJson(h.process, '/', [ev('c')])).status).toBe(200);
  // Poison PostgreSQL refuses (no 30th of February; pushed past ingest's check), then one message
  // left in flight and one waiting in the queue.
  await h.queue.enqueue({ id: 'feb', events: [ev('feb', { timestamp: '2026-02-30T00:00:00Z' }) as never] }, 1000);
  await h.processBatch((await h.queue.claim({ maxMessages: 10, maxEvents: 100, leaseMs: 10_000 }))!, 0, new AbortController().signal);
  await h.queue.enqueue({ id: 'waiting', at: Date.now() - 60_000, events: [ev('w') as never] }, 1000);
  await h.queue.claim({ maxMessages: 10, maxEvents: 100, leaseMs: 60_000 }); // in flight
  await h.queue.enqueue({ id: 'queued', at: Date.now(), events: [ev('q') as never] }, 1000);

  const text = await (await h.ingest.request('/metrics')).text();
  const expected: Record<string, (value: number) => boolean> = {
    aggregator_events_received_total: (v) => v === 4, // 3 through ingest, 1 through the process trigger
    aggregator_events_accepted_total: (v) => v === 3,
    aggregator_events_rejected_total: (v) => v === 1,
    aggregator_events_unique_total: (v) => v === 3,
    aggregator_events_duplicate_total: (v) => v === 1,
    aggregator_events_dead_lettered_total: (v) => v === 1,
    aggregator_queue_messages: (v) => v === 1,
    aggregator_queue_processing_batches: (v) => v === 1,
    aggregator_queue_oldest_pending_age_seconds: (v) => v >= 60 && v < 600,
    aggregator_events_pending: (v) => v === 2,
    aggregator_http_request_duration_seconds: () => total(text, 'aggregator_http_request_duration_seconds_count') >= 3,
    aggregator_process_batch_duration_seconds: () => total(text, 'aggregator_process_batch_duration_seconds_count') === 2,
    aggregator_process_batch_size_events: () => total(text, 'aggregator_process_batch_size_events_sum') === 4,
  };
  expect(listed.length).toBeGreaterThan(10);
  expect(Object.keys(expected).sort()).toEqual([...listed].sort());
  expect(text).toContain('aggregator_events_rejected_total{reason="validation_failed"} 1');
  for (const name of listed) expect({ name, moved: expected[name!]!(total(text, name!)) }).toEqual({ name, moved: true });
});
