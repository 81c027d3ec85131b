import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The Prometheus metrics of one process. A registry of its own (not the global
 * one) so that several apps can live in one process, as in tests and `npm start`.
 * `functionName` labels the requests the apps given these metrics answer.
 *
 * @example metrics.eventsAccepted.inc(events.length)
 */
export function createMetrics(functionName = 'app') {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    function: functionName,
    /** The contract's `received`: events ingest answered 202 for, and events the process trigger took directly. */
    eventsReceived: new Counter({ name: 'aggregator_events_received_total', help: 'Events counted as received (ingest 202 or the process trigger)', registers }),
    eventsAccepted: new Counter({ name: 'aggregator_events_accepted_total', help: 'Events accepted into the queue (answered 202)', registers }),
    eventsRejected: new Counter({
      name: 'aggregator_events_rejected_total',
      // Counted per refused request: a body that is not JSON has no event count to give.
      help: 'Requests refused, by error code',
      labelNames: ['reason'] as const,
      registers,
    }),
    eventsUnique: new Counter({ name: 'aggregator_events_unique_total', help: 'Events stored as the first of their key', registers }),
    eventsDuplicate: new Counter({ name: 'aggregator_events_duplicate_total', help: 'Events dropped as duplicates', registers }),
    eventsDeadLettered: new Counter({ name: 'aggregator_events_dead_lettered_total', help: 'Events parked in the dead-letter list', registers }),
    requestDuration: new Histogram({
      name: 'aggregator_http_request_duration_seconds',
      help: 'HTTP request duration by function, route and status',
      labelNames: ['function', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    batchDuration: new Histogram({
      name: 'aggregator_process_batch_duration_seconds',
      help: 'Time to store and acknowledge one batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    batchSize: new Histogram({
      name: 'aggregator_process_batch_size_events',
      help: 'Events in one processed batch',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000],
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The same metrics, for an app that answers as another function in the same process
 * (`npm start` serves all three, and each labels its own requests).
 *
 * @example createIngestApp({ ...resources, metrics: forFunction(resources.metrics, 'ingest') })
 */
export const forFunction = (metrics: Metrics, functionName: string): Metrics => ({ ...metrics, function: functionName });
