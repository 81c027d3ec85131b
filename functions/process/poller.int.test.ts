import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHarness, event, type Harness } from '../../dev/harness.ts';
import { waitFor } from '../../dev/wait.ts';
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
