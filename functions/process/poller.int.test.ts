import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHarness, event, postJson, type Harness } from '../../dev/harness.ts';
import { waitFor } from '../../dev/wait.ts';
import { expectDrainedAndExact } from '../../test/support/invariant.ts';
import { startPoller } from './poller.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness('poller');
});
afterAll(() => h.cleanup());

it('hands back a claim that failed unexpectedly counting an attempt, so a recurring failure cannot loop for ever', async () => {
  // A bug of our own outside the store (the store's own failures are counted by the processor).
  const poller = startPoller({ ...h, processBatch: () => Promise.reject(new TypeError('a bug')) }, 1);
  try {
    await h.queue.enqueue({ id: 'unlucky', events: [event() as never] }, 1000);
    await waitFor(async () => (await h.queue.attempts(['unlucky']))[0]! >= 2, { what: 'the attempts to climb' });
  } finally {
    await poller.stop();
  }
  expect(await h.queue.depth()).toEqual({ queuedMessages: 1, batchesInFlight: 0 });
});

it('with QUEUE_SHARDS=3, stores what ingest spread over the shards, reaping and claiming from each', async () => {
  const sharded = await createHarness('poller_sharded', { QUEUE_SHARDS: '3', QUEUE_LEASE_MS: '200' });
  try {
    for (let i = 0; i < 30; i++) {
      const body = [event({ event_id: `k${i}` }), event({ event_id: `k${i}` }), event({ event_id: `j${i}` })];
      expect((await postJson(sharded.ingest, '/publish', body)).status).toBe(202);
    }
    // A claim of shard 2 left behind by a worker that died: the reaper returns it.
    const abandoned = (await sharded.queue.shards[2]!.claim({ maxMessages: 5, maxEvents: 100, leaseMs: 1 }))!;
    expect(abandoned.messages.length).toBeGreaterThan(0);
    const lengths = await Promise.all(sharded.queue.shards.map((s) => sharded.redis.llen(s.keys.queue)));
    expect(lengths.filter((l) => l > 0).length).toBeGreaterThan(1);
    const poller = sharded.startPoller(2);
    try {
      const s = await expectDrainedAndExact(sharded.queue, sharded.db);
      expect(s).toMatchObject({ received: 90, unique: 60, duplicates: 30, dead: 0 });
    } finally {
      await poller.stop();
    }
  } finally {
    await sharded.cleanup();
  }
});
