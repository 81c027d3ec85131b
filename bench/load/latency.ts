import { createHistogram } from 'node:perf_hooks';

/** Response times in milliseconds. */
export type Latency = { p50: number; p95: number; p99: number; max: number };

/**
 * Collects response times in an HDR histogram (microsecond resolution), so a
 * run of a million requests costs a fixed amount of memory.
 */
export function latencyRecorder() {
  const histogram = createHistogram();
  const ms = (micros: number) => Math.round(micros) / 1000;
  return {
    record(milliseconds: number): void {
      histogram.record(Math.max(1, Math.round(milliseconds * 1000)));
    },
    summary(): Latency {
      if (histogram.count === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
      return { p50: ms(histogram.percentile(50)), p95: ms(histogram.percentile(95)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) };
    },
  };
}
