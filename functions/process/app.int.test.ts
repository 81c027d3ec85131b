import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, event, type Harness } from '../../dev/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness('process_app', { INGEST_API_KEYS: 'k-one,k-two', MAX_QUEUE_LENGTH: '5' });
});
afterAll(() => h.cleanup());

const post = (headers: Record<string, string>, body: unknown) =>
  h.process.request('/', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('the HTTP trigger', () => {
  it('needs an ingest key when keys are set, and stores nothing without one', async () => {
    const refused = await post({}, event());
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'unauthorized' });
    expect((await post({ authorization: 'Bearer wrong' }, event())).status).toBe(401);
    expect(await h.queue.counters()).toEqual({ received: 0, pending: 0, deadLettered: 0 });
  });

  it('processes the events synchronously with a key', async () => {
    const response = await post({ 'x-api-key': 'k-two' }, [event({ event_id: 'a' }), event({ event_id: 'b' }), event({ event_id: 'a' })]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ processed: 3, unique: 2, duplicates: 1, dead_lettered: 0 });
    expect(await h.queue.counters()).toEqual({ received: 3, pending: 0, deadLettered: 0 });
  });

  it('refuses a bad request before counting anything', async () => {
    const before = await h.queue.counters();
    const response = await post({ 'x-api-key': 'k-one' }, [event({ topic: 'bad topic!' })]);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'validation_failed', details: [{ index: 0, path: 'topic' }] });
    expect(await h.queue.counters()).toEqual(before);
  });

  it('obeys the queue limit like ingest: exactly the limit is taken, one past it is 429 and counts nothing', async () => {
    const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => event({ topic: 'limit', event_id: `${prefix}${i}` }));
    await h.queue.enqueue({ id: 'waiting', events: ids('w', 2) as never }, 1000); // pending: 2 of 5
    const before = await h.queue.counters();
    const refused = await post({ 'x-api-key': 'k-one' }, ids('over', 4));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ error: 'backpressure' });
    expect(await h.queue.counters()).toEqual(before);
    const atLimit = await post({ 'x-api-key': 'k-one' }, ids('at', 3));
    expect(atLimit.status).toBe(200);
    expect(await atLimit.json()).toEqual({ processed: 3, unique: 3, duplicates: 0, dead_lettered: 0 });
  });
});
