import { expect } from 'vitest';
import { waitUntilDrained, type Snapshot } from '../../dev/invariant.ts';
import type { Db } from '../../shared/db/database.ts';
import type { EventQueue } from '../../shared/queue/queue.ts';

/**
 * Waits until the queue is drained, then asserts the contract's invariant
 * exactly: received = unique + duplicates + pending + dead, and unique = stored rows.
 */
export async function expectDrainedAndExact(queue: EventQueue, db: Db, timeoutMs = 60_000): Promise<Snapshot> {
  const s = await waitUntilDrained(queue, db, { timeoutMs, intervalMs: 100 });
  expect(s.received).toBe(s.unique + s.duplicates + s.pending + s.dead);
  expect(s.unique).toBe(s.rows);
  return s;
}
