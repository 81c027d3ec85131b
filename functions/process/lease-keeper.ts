import type { EventQueue } from '../../shared/queue/queue.ts';

/**
 * Renews a batch's lease every third of its length while the batch is worked
 * on, so a slow but live worker keeps its batch. `lost` turns true when the
 * lease was already taken back (the batch went to another worker).
 */
export function keepLease(queue: EventQueue, batchId: string, leaseMs: number) {
  const state = { lost: false };
  const timer = setInterval(() => {
    queue.extend(batchId, leaseMs).then(
      (held) => { if (!held) state.lost = true; },
      () => undefined, // Redis unreachable: try again at the next tick; the lease may still hold.
    );
  }, Math.max(50, Math.floor(leaseMs / 3)));
  timer.unref();
  return {
    get lost() { return state.lost; },
    stop: () => clearInterval(timer),
  };
}
