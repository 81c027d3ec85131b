import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** Metrics as `registry.getMetricsAsJSON()` gives them: what crosses between the threads. */
export type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>;

/** What the main thread asks the storage thread. */
export type ToStorage = { type: 'metrics'; id: number } | { type: 'stop' };

/** What the storage thread says: that its claim loops run, and the metrics it was asked for. */
export type FromStorage = { type: 'started' } | { type: 'metrics'; id: number; metrics: MetricsJson };
