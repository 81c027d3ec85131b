import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('after a claim', () => {
  // Each test records when the loop's claims start and end, through a processBatch that stores nothing.
  const recording = () => {
    const claims: { messages: number; started: number; ended: number }[] = [];
    return {
      claims,
      processBatch: async (claim: { messages: string[] }) => {
        claims.push({ messages: claim.messages.length, started: performance.now(), ended: performance.now() });
        return {} as never;
      },
    };
  };

  it('that emptied the queue, a loop waits POLL_INTERVAL_MS before claiming again, so what trickles in meanwhile is claimed together', async () => {
    const paced = await createHarness('poller_paced', { POLL_INTERVAL_MS: '400' });
    const r = recording();
    try {
      await paced.queue.enqueue({ id: 'first', events: [event() as never] }, 1000);
      const poller = startPoller({ ...paced, processBatch: async (claim) => {
        const result = await r.processBatch(claim);
        // Arrives while the first claim is being stored: a loop that claimed again at once would take it alone.
        if (r.claims.length === 1) for (const id of ['second', 'third']) await paced.queue.enqueue({ id, events: [event() as never] }, 1000);
        r.claims.at(-1)!.ended = performance.now();
        return result;
      } }, 1);
      try {
        await waitFor(() => r.claims.length >= 2, { what: 'the second claim' });
      } finally {
        await poller.stop();
      }
      expect(r.claims.map((c) => c.messages)).toEqual([1, 2]);
      // A timer never fires early, so this lower bound cannot flake on a busy machine.
      expect(r.claims[1]!.started - r.claims[0]!.ended).toBeGreaterThanOrEqual(395);
    } finally {
      await paced.cleanup();
    }
  });

  it('that left messages in the queue, a loop claims again at once', async () => {
    // Waits of a minute would outlast the deadline below: the claims must come back to back.
    const backlog = await createHarness('poller_backlog', { POLL_INTERVAL_MS: '60000', BATCH_MAX_MESSAGES: '2' });
    const r = recording();
    try {
      for (let i = 0; i < 5; i++) await backlog.queue.enqueue({ id: `m${i}`, events: [event() as never] }, 1000);
      const poller = startPoller({ ...backlog, processBatch: r.processBatch }, 1);
      try {
        await waitFor(() => r.claims.length >= 3, { what: 'three claims', timeoutMs: 20_000 });
      } finally {
        await poller.stop();
      }
      expect(r.claims.map((c) => c.messages)).toEqual([2, 2, 1]);
    } finally {
      await backlog.cleanup();
    }
  });
});
