import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, postJson, type Harness } from '../../dev/harness.ts';
import { waitFor } from '../../dev/wait.ts';
import { batchWithOneBroken, validEvent, type GeneratedEvent } from './arbitraries.ts';
import { queueProbe } from './queue-probe.ts';

// Properties over the in-process apps, on a real Redis and PostgreSQL: what is
// valid comes back exactly as sent; what breaks a rule is refused and leaves nothing.

let h: Harness;
let probe: ReturnType<typeof queueProbe>;

beforeAll(async () => {
  h = await createHarness('hostile_props');
  probe = queueProbe(h.redis, h.config.queuePrefix);
});

afterAll(async () => {
  await h?.cleanup();
});

/** The one stored event of a topic (every generated event has a topic of its own), without stored_at. */
async function readBack(topic: string) {
  const response = await h.stats.request(`/events?topic=${encodeURIComponent(topic)}&limit=10`);
  expect(response.status).toBe(200);
  const { events } = (await response.json()) as { events: Array<Record<string, unknown>> };
  expect(events).toHaveLength(1);
  const { stored_at: storedAt, ...stored } = events[0] as Record<string, unknown>;
  expect(storedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  return stored;
}

const expectStoredAsSent = async (generated: GeneratedEvent[]) => {
  for (const g of generated) expect(await readBack(g.event.topic as string)).toEqual(g.expected);
};

describe('valid events are accepted and read back equal', () => {
  it('through the process function (stored synchronously), 120 random batches', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(validEvent, { minLength: 1, maxLength: 4 }), async (generated) => {
        const response = await postJson(h.process, '/', generated.map((g) => g.event));
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ processed: generated.length, unique: generated.length, duplicates: 0 });
        await expectStoredAsSent(generated);
      }),
      { numRuns: 120 },
    );
  });

  it('through ingest, the queue and the poller, 40 random batches', async () => {
    const batches = fc.sample(fc.array(validEvent, { minLength: 1, maxLength: 5 }), 40);
    for (const batch of batches) {
      const response = await postJson(h.ingest, '/publish', batch.map((g) => g.event));
      expect(response.status).toBe(202);
    }
    const poller = h.startPoller(2);
    try {
      await waitFor(async () => (await probe()).queued === 0 && (await h.queue.counters()).pending === 0, { timeoutMs: 30_000, what: 'the poller to drain the queue' });
    } finally {
      await poller.stop();
    }
    await expectStoredAsSent(batches.flat());
  });

  it('keeps prototype keys as data, SQL as text, and Unicode byte for byte', async () => {
    const payloadText = '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"polluted":1}},"sql":"\'); DROP TABLE events; --","nfd":"e\\u0301","astral":"𝄞😀","bom":"\\ufeff"}';
    const body = `{"topic":"hostile:proto","event_id":"Robert'); DROP TABLE events;--","timestamp":"2026-11-25T08:00:00+05:30","source":"ünïcödé-svc","payload":${payloadText}}`;
    const response = await h.process.request('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(200);

    const raw = await (await h.stats.request('/events?topic=hostile%3Aproto')).text();
    const stored = (JSON.parse(raw) as { events: Array<Record<string, unknown>> }).events[0] as Record<string, unknown>;
    expect(stored.event_id).toBe("Robert'); DROP TABLE events;--");
    expect(stored.timestamp).toBe('2026-11-25T02:30:00Z');
    const payload = stored.payload as Record<string, unknown>;
    expect(Object.keys(payload).sort()).toEqual(['__proto__', 'astral', 'bom', 'constructor', 'nfd', 'sql']);
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(payload).toEqual(JSON.parse(payloadText));
    // The bytes on the wire are the bytes sent: no normalisation (NFD stays two code points), no re-escaping.
    expect(raw).toContain('"source":"ünïcödé-svc"');
    expect(raw).toContain('"nfd":"e\u0301"');
    expect(raw).toContain('"astral":"𝄞😀"');
    // Nothing in this process was polluted on the way.
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('a batch with one broken event', () => {
  it('is refused with a 4xx naming that event, 400 random batches, and nothing is queued', async () => {
    const baseline = await probe();
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(batchWithOneBroken, async ({ index, body }) => {
        const response = await h.ingest.request('/publish', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        const answer = (await response.json()) as { error: string; details?: Array<{ index: number }> };
        codes.set(answer.error, (codes.get(answer.error) ?? 0) + 1);
        expect(['validation_failed', 'invalid_json']).toContain(answer.error);
        if (answer.error === 'validation_failed') expect(answer.details?.every((d) => d.index === index)).toBe(true);
        expect(await probe()).toEqual(baseline);
      }),
      { numRuns: 400 },
    );
    expect(codes.get('validation_failed')).toBeGreaterThan(300);
  });
});
