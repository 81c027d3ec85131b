import { describe, expect, it } from 'vitest';
import { PendingView } from './pending-view.ts';
import type { QueueShard } from './queue-shard.ts';

/** Shards whose counter reads answer only when the test says, as slow cluster masters would. */
function slowShards(count: number) {
  const answers: Array<(pending: number) => void> = [];
  const shards = Array.from({ length: count }, () => ({
    counters: () => new Promise((resolve) => answers.push((pending) => resolve({ received: 0, pending, deadLettered: 0 }))),
  })) as unknown as QueueShard[];
  return { shards, answer: (pendings: number[]) => pendings.forEach((p, i) => answers[i]!(p)) };
}

describe('PendingView', () => {
  it('keeps a count an enqueue reported while a read was on its way, over the older one the read brings', async () => {
    const { shards, answer } = slowShards(3);
    const view = new PendingView(shards, 60_000);
    const others = view.othersThan(0); // starts the read
    view.saw(1, 50); // shard 1's script answered after the read was sent
    answer([7, 10, 20]);
    expect(await others).toBe(70); // 50 (newer than the read's 10) + 20
  });

  it('takes the read for shards no enqueue reported since it began', async () => {
    const { shards, answer } = slowShards(2);
    const view = new PendingView(shards, 60_000);
    view.saw(1, 99); // before the read: the read is newer
    const others = view.othersThan(0);
    answer([1, 5]);
    expect(await others).toBe(5);
  });
});
