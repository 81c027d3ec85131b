import { readCounters } from '../shared/db/counter.repository.ts';
import type { Db } from '../shared/db/database.ts';
import { countEvents } from '../shared/db/event.repository.ts';
import type { EventQueue } from '../shared/queue/queue.ts';
import { waitFor } from './wait.ts';

export type Snapshot = { received: number; unique: number; duplicates: number; pending: number; dead: number; rows: number };

/**
 * Every counter of the contract, read straight from Redis and PostgreSQL, plus the stored row count.
 * Redis first, as GET /stats reads them: a batch is committed before it is acknowledged, so a
 * snapshot whose `pending` is 0 holds every commit (read side by side, PostgreSQL's counters could
 * predate the last commit whose acknowledgement Redis already had).
 */
export async function snapshot(queue: EventQueue, db: Db): Promise<Snapshot> {
  const redis = await queue.counters();
  const [pg, rows] = await Promise.all([readCounters(db), countEvents(db)]);
  return { received: redis.received, unique: pg.uniqueProcessed, duplicates: pg.duplicateDropped, pending: redis.pending, dead: redis.deadLettered, rows };
}

/**
 * Waits until nothing is pending and no batch is leased, and returns the
 * snapshot taken then: the point where the contract's invariant must hold exactly.
 *
 * @example const s = await waitUntilDrained(queue, db, { timeoutMs: 60_000, intervalMs: 100 })
 */
export async function waitUntilDrained(queue: EventQueue, db: Db, options: { timeoutMs: number; intervalMs: number }): Promise<Snapshot> {
  return waitFor(async () => {
    const [s, depth] = await Promise.all([snapshot(queue, db), queue.depth()]);
    return s.pending === 0 && depth.queuedMessages === 0 && depth.batchesInFlight === 0 ? s : null;
  }, { ...options, what: 'the queue to drain' });
}
