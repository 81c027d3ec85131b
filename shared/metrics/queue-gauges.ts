import { Gauge } from 'prom-client';
import type { EventQueue } from '../queue/queue.ts';
import type { Metrics } from './metrics.ts';

/** What the gauges read from the queue: its depth and the counters Redis keeps. */
export type QueueReadings = Pick<EventQueue, 'depth' | 'counters' | 'oldestPendingAt'>;

type Reading = { queuedMessages: number; batchesInFlight: number; pendingEvents: number; oldestPendingAgeSeconds: number };

/** Callers that arrive while a read is in flight share it: one scrape reads Redis once for all the gauges. */
function shared<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => (inFlight ??= read().finally(() => (inFlight = undefined)));
}

/**
 * Adds gauges of the shared queue to a process's metrics, read from Redis when
 * Prometheus scrapes, so they are never stale. They describe the whole system
 * (EventQueue adds its shards up: messages, batches, pending; the oldest of any),
 * not the process: aggregate them with `max`, not `sum`. While Redis does not
 * answer they read NaN, which Prometheus shows as a gap rather than a false 0.
 * Call it once per registry.
 *
 * @example watchQueue(metrics, queue) // then GET /metrics shows aggregator_queue_messages
 */
export function watchQueue(metrics: Metrics, queue: QueueReadings): void {
  const read = shared(async (): Promise<Reading> => {
    const [depth, counters, oldest] = await Promise.all([queue.depth(), queue.counters(), queue.oldestPendingAt()]);
    return { ...depth, pendingEvents: counters.pending, oldestPendingAgeSeconds: oldest === null ? 0 : Math.max(0, Date.now() - oldest) / 1000 };
  });
  const gauge = (name: string, help: string, pick: (reading: Reading) => number) =>
    new Gauge({
      name,
      help,
      registers: [metrics.registry],
      async collect() {
        this.set(await read().then(pick, () => Number.NaN));
      },
    });
  gauge('aggregator_queue_messages', 'Messages waiting in the queue, not yet claimed', (r) => r.queuedMessages);
  gauge('aggregator_queue_processing_batches', 'Batches claimed by a worker and not yet acknowledged', (r) => r.batchesInFlight);
  gauge('aggregator_queue_oldest_pending_age_seconds', 'Age of the oldest message waiting or in flight (0 when none)', (r) => r.oldestPendingAgeSeconds);
  gauge('aggregator_events_pending', 'Events received and not yet stored, dropped or dead-lettered', (r) => r.pendingEvents);
}
