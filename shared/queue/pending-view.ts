import type { QueueShard } from './queue-shard.ts';

/**
 * The pending events of every queue shard as this process last saw them: what an enqueue
 * holds the other shards to (MAX_QUEUE_LENGTH counts all of them), while its own shard is
 * checked exactly by its Lua script. Reading every other shard on every enqueue cost one
 * Redis command a shard a request; this view reads them all at most once every `maxAgeMs`,
 * one read shared by the requests that wait on it, and each enqueue's script reports its
 * shard's new count, so this process's own enqueues are always in it. What other processes
 * (ingest replicas, pollers) changed since the last read is not, for at most `maxAgeMs`.
 *
 * @example
 *   const view = new PendingView(shards, 100);
 *   const others = await view.othersThan(2); // every shard's pending but shard 2's
 *   view.saw(2, 1_234); // shard 2's script answered 1,234 pending after its push
 */
export class PendingView {
  #counts: number[] = [];
  /** When each shard's count was last set by `saw`: a read that began before that must not overwrite it. */
  #sawAt: number[] = [];
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | null = null;

  constructor(readonly shards: readonly QueueShard[], readonly maxAgeMs: number) {}

  /** The pending events of every shard but `index`, read again first when the view is older than `maxAgeMs`. */
  async othersThan(index: number): Promise<number> {
    if (performance.now() - this.#readAt > this.maxAgeMs) await this.#read();
    let total = 0;
    for (const [i, count] of this.#counts.entries()) if (i !== index) total += count;
    return total;
  }

  /** A shard's pending count as a script just answered it. */
  saw(index: number, pending: number): void {
    this.#counts[index] = pending;
    this.#sawAt[index] = performance.now();
  }

  /** One read of every shard for all who wait; a failed read is not kept, so the next enqueue tries again. */
  #read(): Promise<void> {
    this.#reading ??= (async () => {
      // The view is as old as the moment it was asked for, not the moment the last answer came.
      const startedAt = performance.now();
      try {
        const all = await Promise.all(this.shards.map((shard) => shard.counters()));
        // On a Redis Cluster the shards answer on different connections: an enqueue's answer can
        // come after this read began and before it ended, and is then the newer count.
        this.#counts = all.map((counters, i) => ((this.#sawAt[i] ?? Number.NEGATIVE_INFINITY) > startedAt ? this.#counts[i]! : counters.pending));
        this.#readAt = startedAt;
      } finally {
        this.#reading = null;
      }
    })();
    return this.#reading;
  }
}
