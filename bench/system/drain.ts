import type { EventQueue } from '../../shared/queue/queue.ts';
import { waitFor } from '../../dev/wait.ts';

/**
 * Waits until Redis has counted `received` events in and none is pending: the
 * ack of a batch follows its commit, so at that moment every event is stored
 * or dropped. Resolves with the moment it saw that (performance.now()). More
 * events than sent ends the wait too; the counter check then reports it.
 */
export async function drained(queue: EventQueue, received: number, timeoutMs: number): Promise<number> {
  return waitFor(async () => {
    const counters = await queue.counters();
    return counters.received >= received && counters.pending === 0 ? performance.now() : null;
  }, { timeoutMs, intervalMs: 10, what: `${received} events received and none pending` });
}
