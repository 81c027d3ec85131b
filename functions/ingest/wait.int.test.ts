import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalApp } from '../../runner/local-app.ts';
import { defaultConfig } from '../../shared/config/config.ts';
import { countEvents } from '../../shared/db/event.repository.ts';
import { createMetrics } from '../../shared/metrics/metrics.ts';
import type { QueueMessage } from '../../shared/queue/message.ts';
import { OutcomeWaiter } from '../../shared/queue/outcomes.ts';
import { EventQueue } from '../../shared/queue/queue.ts';
import { createRedis } from '../../shared/queue/redis.ts';
import { readinessOf } from '../../shared/runtime/readiness.ts';
import { createHarness, event, postJson, type Harness } from '../../dev/harness.ts';
import { freePort, startFunction } from '../../dev/processes.ts';
import { createTestDatabase, testRedis, TEST_REDIS_URL } from '../../dev/services.ts';
import { waitFor } from '../../dev/wait.ts';
import { createIngestApp } from './app.ts';

// `POST /publish?wait=true` over a real Redis and PostgreSQL: the outcome of each event
// comes back from the process side through Redis, in request order, and no key stays behind.

type Confirmed = { accepted: number; batch_id: string; stored: number; duplicates: number; results: Array<{ status: string }> };

/** Every key the waits use (waiter, outcome) under a harness's prefix. */
const waitKeys = async (h: Harness) => [
  ...(await h.redis.keys(`{${h.config.queuePrefix}}:waiter:*`)),
  ...(await h.redis.keys(`{${h.config.queuePrefix}}:outcome:*`)),
];

describe('with a poller running', () => {
  let h: Harness;
  let poller: ReturnType<Harness['startPoller']>;
  beforeAll(async () => {
    h = await createHarness('wait');
    poller = h.startPoller(1);
  });
  afterAll(async () => {
    await poller?.stop();
    await h?.cleanup();
  });

  it('answers 200 with each event stored or duplicate, in request order, and leaves no key behind', async () => {
    const earlier = await postJson(h.ingest, '/publish?wait=true', [event({ event_id: 'w-earlier' })]);
    expect(earlier.status).toBe(200);
    expect(await earlier.json()).toMatchObject({ accepted: 1, stored: 1, duplicates: 0, results: [{ status: 'stored' }] });

    const batch = [
      event({ event_id: 'w-new' }),
      event({ event_id: 'w-earlier' }), // stored by the request before
      event({ event_id: 'w-new' }), // a repeat inside the request
      event({ event_id: 'w-new', topic: 'payments' }), // same id, other topic: another key
    ];
    const response = await postJson(h.ingest, '/publish?wait=true', batch);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Confirmed;
    expect(body).toEqual({
      accepted: 4,
      batch_id: expect.any(String),
      stored: 2,
      duplicates: 2,
      results: [{ status: 'stored' }, { status: 'duplicate' }, { status: 'duplicate' }, { status: 'stored' }],
    });
    expect(await countEvents(h.db)).toBe(3);
    expect(await waitKeys(h)).toEqual([]);
  });

  it('tells each request its own outcome when the requests of a turn share one queue message', async () => {
    const waiter = new OutcomeWaiter(h.redis, h.config.queuePrefix);
    try {
      const requests = [
        { id: 'share-a', events: [event({ event_id: 's-1' }), event({ event_id: 's-2' })] },
        { id: 'share-b', events: [event({ event_id: 's-2' })] }, // the request before stored it
        { id: 'share-c', events: [event({ event_id: 's-3' }), event({ event_id: 's-3' })] },
      ] as QueueMessage[];
      const pending = await Promise.all(requests.map((r) => waiter.expect(r.id, 10_000)));
      const before = await h.db.selectFrom('processed_messages').select('message_id').execute();
      // Enqueued in one turn: one message, named after the first request.
      expect(await Promise.all(requests.map((r) => h.queue.enqueue(r, 1_000_000)))).toEqual(['queued', 'queued', 'queued']);
      const results = await Promise.all(pending.map((p) => p?.settle(10_000)));
      expect(results).toEqual([['stored', 'stored'], ['duplicate'], ['stored', 'duplicate']]);
      const after = await h.db.selectFrom('processed_messages').select('message_id').execute();
      expect(after.length - before.length).toBe(1);
      expect(await waitKeys(h)).toEqual([]);
    } finally {
      await waiter.close();
    }
  });

  it('answers at the gateway path of the local runner too', async () => {
    const local = createLocalApp({ ingest: h.ingest, process: h.process, stats: h.stats });
    const response = await postJson(local, '/function/ingest?wait=true', [event({ event_id: 'w-gateway' }), event({ event_id: 'w-gateway' })]);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ stored: 1, duplicates: 1, results: [{ status: 'stored' }, { status: 'duplicate' }] });
  });

  it('answers 202 as before with wait=false or no wait, and writes no outcome nobody waits for', async () => {
    for (const path of ['/publish', '/publish?wait=false', '/?wait=false']) {
      const response = await postJson(h.ingest, path, event({ event_id: `w-plain${path}` }));
      expect(response.status).toBe(202);
      expect(Object.keys((await response.json()) as object).sort()).toEqual(['accepted', 'batch_id']);
    }
    await waitFor(async () => (await h.queue.counters()).pending === 0, { what: 'the plain events processed' });
    expect(await waitKeys(h)).toEqual([]);
  });

  it('refuses a bad wait value or an unknown parameter with 400 invalid_query naming it, and queues nothing', async () => {
    const before = (await h.queue.counters()).received;
    const cases: Array<[string, string]> = [
      ['?wait=yes', 'wait'],
      ['?wait=', 'wait'],
      ['?wait=TRUE', 'wait'],
      ['?wait=true&wait=false', 'wait'],
      ['?wiat=true', 'wiat'],
      [`?${encodeURIComponent('<script>x</script>')}=1`, 'a parameter with an unusual name'],
    ];
    for (const [query, named] of cases) {
      const response = await postJson(h.ingest, `/publish${query}`, event({ event_id: 'w-refused' }));
      expect(response.status, query).toBe(400);
      const body = (await response.json()) as { error: string; message: string; parameter: string };
      expect(body.error).toBe('invalid_query');
      expect(body.message).toContain(named);
      expect(body.parameter, query).toBe(named);
    }
    expect((await h.queue.counters()).received).toBe(before);
    expect(await waitKeys(h)).toEqual([]);
  });
});

describe('with no poller running', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('wait-timeout', { WAIT_TIMEOUT_MS: '300', MAX_QUEUE_LENGTH: '3' });
  });
  afterAll(async () => h?.cleanup());

  it('answers 202 after WAIT_TIMEOUT_MS; the events stay queued and are stored once a poller runs', async () => {
    const started = performance.now();
    const response = await postJson(h.ingest, '/publish?wait=true', [event({ event_id: 't-1' }), event({ event_id: 't-2' })]);
    const waited = performance.now() - started;
    expect(response.status).toBe(202);
    expect(Object.keys((await response.json()) as object).sort()).toEqual(['accepted', 'batch_id']);
    expect(waited).toBeGreaterThanOrEqual(300);
    expect(await waitKeys(h)).toEqual([]);
    expect((await h.queue.counters()).pending).toBe(2);

    const poller = h.startPoller(1);
    try {
      await waitFor(async () => (await countEvents(h.db)) === 2, { what: 'the queued events stored' });
      expect(await waitKeys(h)).toEqual([]); // nobody waits any more: the outcome is not written
    } finally {
      await poller.stop();
    }
  });

  it('answers 429 under backpressure as any publish, and leaves no waiter key', async () => {
    const response = await postJson(h.ingest, '/publish?wait=true', [event({ event_id: 'b-1' }), event({ event_id: 'b-2' }), event({ event_id: 'b-3' }), event({ event_id: 'b-4' })]);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ error: 'backpressure' });
    expect(await waitKeys(h)).toEqual([]);
  });

  it('validates all or nothing before waiting', async () => {
    const before = (await h.queue.counters()).received;
    const response = await postJson(h.ingest, '/publish?wait=true', [event({ event_id: 'v-1' }), event({ timestamp: 'yesterday' })]);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'validation_failed' });
    expect((await h.queue.counters()).received).toBe(before);
    expect(await waitKeys(h)).toEqual([]);
  });
});

it('answers 503 at once while Redis is away, as any publish', async () => {
  const redis = createRedis(`redis://127.0.0.1:${await freePort()}`, 'wait-away');
  redis.on('error', () => undefined);
  try {
    await waitFor(() => redis.status === 'reconnecting', { what: 'the client to find Redis away' });
    const deps = { config: defaultConfig(), logger: pino({ level: 'silent' }), metrics: createMetrics(), readiness: readinessOf({ redis }) };
    const ingest = createIngestApp({ ...deps, queue: new EventQueue(redis, 'wait-away') });
    const started = performance.now();
    const response = await postJson(ingest, '/publish?wait=true', event());
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: 'unavailable', dependency: 'redis' });
    expect(performance.now() - started).toBeLessThan(1_000); // not held up connecting the subscription
  } finally {
    redis.disconnect();
  }
});

describe('ingest and process as separate processes', () => {
  it('carries the outcome from process to ingest through Redis, and a stop ends a wait with 202', async () => {
    const database = await createTestDatabase('wait-procs');
    const redis = testRedis('wait-procs');
    const env = { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix, WORKERS: '1', WAIT_TIMEOUT_MS: '30000' };
    const [ingest, process] = await Promise.all([startFunction('functions/ingest/server.ts', env), startFunction('functions/process/server.ts', env)]);
    try {
      const publish = () => postJson({ request: (path, init) => fetch(`${ingest.url}${path}`, init) }, '/publish?wait=true', [event({ event_id: 'p-1' }), event({ event_id: 'p-1' })]);
      const first = await publish();
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ stored: 1, duplicates: 1, results: [{ status: 'stored' }, { status: 'duplicate' }] });
      const again = await publish();
      expect(await again.json()).toMatchObject({ stored: 0, duplicates: 2 });
      expect(ingest.output()).toContain('Confirmed stored to the publisher');

      // With process gone, a wait is cut short by ingest's SIGTERM: 202, not a dropped connection.
      await process.stop();
      const waiting = publish();
      await waitFor(async () => (await redis.redis.keys(`{${redis.prefix}}:waiter:*`)).length === 1, { what: 'a publisher waiting' });
      const stopped = ingest.stop();
      const response = await waiting;
      expect(response.status).toBe(202);
      expect(await stopped).toBe(0);
      expect(await redis.redis.keys(`{${redis.prefix}}:waiter:*`)).toEqual([]);
    } finally {
      await Promise.all([ingest.kill(), process.kill()]);
      await redis.cleanup();
      await database.drop();
    }
  }, 90_000);
});
