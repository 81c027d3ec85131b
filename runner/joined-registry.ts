import { AggregatorRegistry, Registry } from 'prom-client';
import type { MetricsJson } from './storage-messages.ts';

/**
 * The metrics of a process whose work is split between threads, as one scrape: the registry's own
 * plus another thread's, a counter or histogram in both summed by its labels (the HTTP process
 * trigger and the storage thread both count stored events, say).
 *
 * @example createStatsApp({ ...resources, metrics: { ...metrics, registry: new JoinedRegistry(metrics.registry, storage.metrics) } })
 */
export class JoinedRegistry extends Registry {
  constructor(private readonly own: Registry, private readonly other: () => Promise<MetricsJson>) {
    super();
  }

  private async joined(): Promise<Registry> {
    // aggregate() drops metrics marked 'omit' (the start time): with one copy of each there is nothing to merge them with.
    const own = (await this.own.getMetricsAsJSON()).map((m) => (m.aggregator === 'omit' ? { ...m, aggregator: 'first' as const } : m));
    return AggregatorRegistry.aggregate([own, await this.other()]);
  }

  override async metrics(): Promise<string> {
    return (await this.joined()).metrics();
  }

  override async getMetricsAsJSON() {
    return (await this.joined()).getMetricsAsJSON();
  }
}
