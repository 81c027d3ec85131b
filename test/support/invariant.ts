import { expect } from 'vitest';
import { readCounters } from '../../shared/db/counter.repository.ts';
import type { Db } from '../../shared/db/database.ts';
import { countEvents } from '../../shared/db/event.repository.ts';
import type { EventQueue } from '../../shared/queue/queue.ts';
import { waitFor } from './wait.ts';

export type Snapshot = { received: number; unique: number; duplicates: number; pending: number; dead: number; rows: number };

/** Every counter of the contract, read straight from Redis and PostgreSQL, plus the stored row count. */
export async function snapshot(queue: EventQueue, db: Db): Promise<Snapshot> {
  const [redis, pg, rows] = await Promise.all([queue.counters(), readCounters(db), countEvents(db)]);
  return { received: redis.received, unique: pg.uniqueProcessed, duplicates: pg.duplicateDropped, pending: redis.pending, dead: redis.deadLettered, rows };
}

/**
 * Waits until nothing is pending and no batch is leased, then asserts the
 * contract's invariant exactly: received = unique + duplicates + pending + dead,
 * and unique = stored rows.
 */
export async function expectDrainedAndExact(queue: EventQueue, db: Db, timeoutMs = 60_000): Promise<Snapshot> {
  const s = await waitFor(async () => {
    const [snap, depth] = await Promise.all([snapshot(queue, db), queue.depth()]);
    return snap.pending === 0 && depth.queuedMessages === 0 && depth.batchesInFlight === 0 ? snap : null;
  }, { timeoutMs, intervalMs: 100, what: 'the queue to drain' });
  expect(s.received).toBe(s.unique + s.duplicates + s.pending + s.dead);
  expect(s.unique).toBe(s.rows);
  return s;
}
