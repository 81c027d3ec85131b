import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, event, postJson, type Harness } from '../../dev/harness.ts';

// Every limit at exactly its value is accepted, one past it refused.
let h: Harness;
let small: Harness;
beforeAll(async () => {
  h = await createHarness('limits', { MAX_EVENTS_PER_REQUEST: '3', MAX_PAYLOAD_BYTES: '20', MAX_BODY_BYTES: '2000' });
  small = await createHarness('limits_queue', { MAX_QUEUE_LENGTH: '5' });
});
afterAll(async () => {
  await h.cleanup();
  await small.cleanup();
});

const events = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => event({ topic: 'limits', event_id: `${prefix}-${i}`, payload: {} }));
const publishRaw = (body: string) => h.ingest.request('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
/** A one-event body padded with JSON whitespace to exactly `bytes` bytes. */
const bodyOf = (bytes: number, id: string) => {
  const json = JSON.stringify([event({ topic: 'limits', event_id: id, payload: {} })]);
  return json + ' '.repeat(bytes - Buffer.byteLength(json));
};

describe('limits at exactly their value', () => {
  it('events per request: 3 accepted, 4 refused with 413', async () => {
    expect((await postJson(h.ingest, '/', events(3, 'n'))).status).toBe(202);
    const refused = await postJson(h.ingest, '/', events(4, 'n4'));
    expect(refused.status).toBe(413);
    expect(await refused.json()).toMatchObject({ error: 'too_large', limit: 3 });
  });

  it('body bytes: 2000 accepted, 2001 refused with 413', async () => {
    expect((await publishRaw(bodyOf(2000, 'b'))).status).toBe(202);
    const refused = await publishRaw(bodyOf(2001, 'b2'));
    expect(refused.status).toBe(413);
    expect(await refused.json()).toMatchObject({ error: 'too_large', limit: 2000 });
  });

  it('payload bytes: 20 serialized accepted, 21 refused with 400', async () => {
    const payload = (bytes: number) => ({ k: 'x'.repeat(bytes - '{"k":""}'.length) });
    expect(Buffer.byteLength(JSON.stringify(payload(20)))).toBe(20);
    expect((await postJson(h.ingest, '/', event({ topic: 'limits', event_id: 'p20', payload: payload(20) }))).status).toBe(202);
    const refused = await postJson(h.ingest, '/', event({ topic: 'limits', event_id: 'p21', payload: payload(21) }));
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'validation_failed', details: [{ index: 0, path: 'payload' }] });
  });

  it('queue length: pending may reach 5, not pass it', async () => {
    expect((await postJson(small.ingest, '/', events(3, 'q1'))).status).toBe(202);
    expect((await postJson(small.ingest, '/', events(3, 'q2'))).status).toBe(429);
    expect((await postJson(small.ingest, '/', events(2, 'q3'))).status).toBe(202);
    expect((await small.queue.counters()).pending).toBe(5);
    expect((await postJson(small.ingest, '/', events(1, 'q4'))).status).toBe(429);
  });

  it('a last page of exactly `limit` rows has next_cursor null', async () => {
    const fresh = await createHarness('limits_pages');
    try {
      expect((await postJson(fresh.process, '/', events(4, 'page').map((e) => ({ ...e, topic: 'paged' })))).status).toBe(200);
      const page = async (query: string) => (await (await fresh.stats.request(`/events?topic=paged&${query}`)).json()) as { events: unknown[]; next_cursor: string | null };
      expect(await page('limit=4')).toMatchObject({ next_cursor: null });
      expect((await page('limit=4')).events).toHaveLength(4);
      const first = await page('limit=2');
      expect(first.next_cursor).toEqual(expect.any(String));
      const last = await page(`limit=2&after=${encodeURIComponent(first.next_cursor!)}`);
      expect(last.events).toHaveLength(2);
      expect(last.next_cursor).toBeNull();
    } finally {
      await fresh.cleanup();
    }
  });
});
