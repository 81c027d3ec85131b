import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../shared/config/config.ts';
import { eventSchema } from '../../shared/event/event.schema.ts';
import { AppError } from '../../shared/http/errors.ts';
import { readEvents } from '../../shared/http/read-events.ts';
import { scriptedServer, type Reply, type Received } from '../../test/support/scripted-server.ts';
import { waitFor } from '../../dev/wait.ts';
import { FlushError, InvalidEventError, PublishError, PublisherClosedError } from './errors.ts';
import { SERVER_DEFAULTS, type PublisherOptions } from './options.ts';
import { createPublisher, type Publisher } from './publisher.ts';

const event = (i: number, payload: Record<string, unknown> = { i }) => ({ topic: 'orders', event_id: `e-${i}`, timestamp: '2026-11-25T08:00:00Z', source: 'unit', payload });
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/** A scripted server and a publisher pointed at it; both are closed after the test. */
async function setup(reply: (r: Received) => Reply | Promise<Reply>, options: Omit<PublisherOptions, 'url'> = {}) {
  const server = await scriptedServer(reply);
  const errors: PublishError[] = [];
  const publisher = createPublisher({ url: server.url, flushIntervalMs: 10_000, onError: (e) => errors.push(e), ...options });
  cleanups.push(async () => {
    await publisher.close().catch(() => undefined);
    await server.close();
  });
  return { server, publisher, errors };
}

const accept = (): Reply => ({ status: 202 });
const ids = (events: Array<Record<string, unknown>>) => events.map((e) => e.event_id);
async function publishAll(publisher: Publisher, from: number, to: number) {
  for (let i = from; i < to; i++) await publisher.publish(event(i));
}

describe('publish', () => {
  it('fills a missing event_id (UUID v7) and timestamp at publish, and a retry resends the same key', async () => {
    const { server, publisher } = await setup((r) => (r.n === 0 ? { status: 503, headers: { 'retry-after': '0' } } : accept()));
    const before = Date.now();
    const published = await publisher.publish({ topic: 'orders', source: 'unit', payload: { a: 1 } });
    expect(published.event_id).toMatch(UUID_V7);
    expect(Date.parse(published.timestamp)).toBeGreaterThanOrEqual(before);
    await publisher.flush();
    expect(server.received).toHaveLength(2);
    expect(server.received[0]!.body).toEqual([published]);
    expect(server.received[1]!.body).toEqual(server.received[0]!.body);
    expect(server.received[0]!.path).toBe('/publish');
  });

  it('keeps a given event_id and timestamp', async () => {
    const { publisher } = await setup(accept);
    expect(await publisher.publish(event(1))).toEqual(event(1));
  });

  it.each([
    ['a bad timestamp', { ...event(1), timestamp: '2026-02-31T00:00:00Z' }],
    ['an unknown field and a missing one', { topic: 'orders', event_id: 'x', source: 's', payload: {}, extra: 1, timestamp: undefined }],
    ['a payload that is an array', { ...event(1), payload: [1] }],
    ['a \\u0000 deep in the payload', { ...event(1), payload: { a: [{ b: 'x\u0000' }] } }],
    ['not an object', 'orders'],
    ['an event_id of null', { ...event(1), event_id: null }],
  ])('refuses %s with the details the server gives, and sends nothing', async (_, bad) => {
    const { server, publisher } = await setup(accept);
    const error = await publisher.publish(bad as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidEventError);

    // The server's answer to the same event, the way a fresh publisher would fill it.
    const sent = typeof bad === 'object' && bad !== null && !('timestamp' in bad && bad.timestamp !== undefined) ? { ...bad, timestamp: '2026-11-25T08:00:00Z' } : bad;
    const request = new Request('http://x/publish', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([sent]) });
    const answer = await readEvents(request, defaultConfig().limits, eventSchema(defaultConfig().limits)).catch((e: unknown) => e);
    expect(answer).toBeInstanceOf(AppError);
    expect(JSON.parse(JSON.stringify(error))).toEqual((answer as AppError).toJSON());
    await publisher.flush();
    expect(server.received).toHaveLength(0);
    expect(publisher.stats().published).toBe(0);
  });

  it('refuses an event JSON cannot carry', async () => {
    const { publisher } = await setup(accept);
    const error = (await publisher.publish({ ...event(1), payload: { n: 1n } }).catch((e: unknown) => e)) as InvalidEventError;
    expect(error.details).toEqual([{ index: 0, path: '', message: expect.stringMatching(/^an event must be serializable as JSON \(.*BigInt/) }]);
  });

  it('checks against the limits it is given', async () => {
    const { publisher } = await setup(accept, { limits: { maxTopicLength: 3 } });
    const error = (await publisher.publish(event(1)).catch((e: unknown) => e)) as InvalidEventError;
    expect(error.details).toEqual([{ index: 0, path: 'topic', message: 'topic must be at most 3 characters' }]);
  });

  it('refuses events after close', async () => {
    const { publisher } = await setup(accept);
    await publisher.close();
    await expect(publisher.publish(event(1))).rejects.toBeInstanceOf(PublisherClosedError);
  });
});

describe('batching', () => {
  it('cuts batches by count, in order, and flush sends the rest', async () => {
    const { server, publisher } = await setup(accept, { maxBatchEvents: 10, concurrency: 1 });
    await publishAll(publisher, 0, 25);
    await publisher.flush();
    expect(server.received.map((r) => (r.body as unknown[]).length)).toEqual([10, 10, 5]);
    expect(ids(server.events())).toEqual(Array.from({ length: 25 }, (_, i) => `e-${i}`));
    expect(publisher.stats()).toMatchObject({ published: 25, sent: 25, unsettled: 0, requests: 3 });
  });

  it('cuts batches by bytes, never over maxBatchBytes', async () => {
    const size = JSON.stringify(event(10)).length;
    const { server, publisher } = await setup(accept, { maxBatchBytes: size * 3 + 4, gzip: false, concurrency: 1 });
    await publishAll(publisher, 10, 30);
    await publisher.flush();
    expect(server.received.map((r) => (r.body as unknown[]).length)).toEqual([3, 3, 3, 3, 3, 3, 2]);
    for (const r of server.received) expect(r.rawBytes).toBeLessThanOrEqual(size * 3 + 4);
  });

  it('sends an event bigger than maxBatchBytes alone', async () => {
    const { server, publisher } = await setup(accept, { maxBatchBytes: 10 });
    await publishAll(publisher, 0, 2);
    await publisher.flush();
    expect(server.received.map((r) => (r.body as unknown[]).length)).toEqual([1, 1]);
  });

  it('sends a batch that is not full after flushIntervalMs', async () => {
    const { server, publisher } = await setup(accept, { flushIntervalMs: 50 });
    await publisher.publish(event(1));
    await waitFor(() => server.received.length === 1, { what: 'the timer to send the batch' });
    expect(server.received[0]!.body).toEqual([event(1)]);
  });

  it('gzips a body when that pays, and only then', async () => {
    const { server, publisher } = await setup(accept);
    await publishAll(publisher, 0, 50);
    await publisher.flush();
    await publisher.publish(event(50));
    await publisher.flush();
    const [big, small] = server.received;
    expect(big!.headers['content-encoding']).toBe('gzip');
    expect(big!.rawBytes).toBeLessThan(JSON.stringify(big!.body).length / 2);
    expect((big!.body as unknown[]).length).toBe(50);
    expect(small!.headers['content-encoding']).toBeUndefined();
  });

  it('never gzips with gzip: false, and sends the API key', async () => {
    const { server, publisher } = await setup(accept, { gzip: false, apiKey: 'k1' });
    await publishAll(publisher, 0, 50);
    await publisher.flush();
    expect(server.received[0]!.headers['content-encoding']).toBeUndefined();
    expect(server.received[0]!.headers.authorization).toBe('Bearer k1');
  });

  it('makes publish wait while maxBufferedEvents are held, rather than dropping', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const { server, publisher } = await setup(async () => (await released, accept()), { maxBatchEvents: 2, maxBufferedEvents: 4, concurrency: 1 });
    await publishAll(publisher, 0, 4);
    let fifth = false;
    const waiting = publisher.publish(event(4)).then(() => (fifth = true));
    await waitFor(() => server.received.length === 1, { what: 'the first batch to be in flight' });
    expect(fifth).toBe(false);
    expect(publisher.stats()).toMatchObject({ published: 4, unsettled: 4 });
    release();
    await waiting;
    await publisher.flush();
    expect(ids(server.events())).toEqual(['e-0', 'e-1', 'e-2', 'e-3', 'e-4']);
  });
});

describe('retries', () => {
  it('waits as Retry-After says on 429 and 503', async () => {
    const { server, publisher, errors } = await setup((r) =>
      r.n === 0 ? { status: 429, body: { error: 'backpressure' }, headers: { 'retry-after': '1' } } : r.n === 1 ? { status: 503, headers: { 'retry-after': '1' } } : accept(),
    );
    await publisher.publish(event(1));
    await publisher.flush();
    const [first, second, third] = server.received;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);
    expect(third!.at - second!.at).toBeGreaterThanOrEqual(1000);
    expect(errors.map((e) => [e.status, e.code, e.willRetry])).toEqual([[429, 'backpressure', true], [503, 'http_503', true]]);
    expect(errors[0]!.retryInMs).toBeGreaterThanOrEqual(1000);
    expect(publisher.stats()).toMatchObject({ sent: 1, requests: 3, retries: 2, backpressure: 1 });
  });

  it.each([
    ['a 500', { status: 500 } as Reply],
    ['a 502', { status: 502 } as Reply],
    ['a 408', { status: 408 } as Reply],
    ['a lost answer (the request went through)', 'cut' as Reply],
  ])('retries %s with a growing wait until the batch is accepted', async (_, failure) => {
    const { server, publisher, errors } = await setup((r) => (r.n < 3 ? failure : accept()));
    await publisher.publish(event(1));
    await publisher.flush();
    expect(server.received).toHaveLength(4);
    expect(errors.every((e) => e.willRetry)).toBe(true);
    const waits = errors.map((e) => e.retryInMs!);
    expect(waits[0]).toBeGreaterThanOrEqual(50);
    expect(waits[2]).toBeGreaterThanOrEqual(200);
    for (const r of server.received) expect(r.body).toEqual([event(1)]);
  });

  it('retries a refused connection until the server is there', async () => {
    const { server } = await setup(accept);
    const url = server.url;
    await server.close();
    const errors: PublishError[] = [];
    const publisher = createPublisher({ url, onError: (e) => errors.push(e) });
    await publisher.publish(event(1));
    await waitFor(() => errors.length >= 2, { what: 'two refused attempts' });
    expect(errors[0]).toMatchObject({ status: 0, code: 'network_error', willRetry: true });
    expect(errors[0]!.message).toMatch(/ECONNREFUSED/);
    // The same port, now answering.
    const { createServer } = await import('node:http');
    const again = createServer((req, res) => req.resume().on('end', () => res.writeHead(202).end('{}')));
    await new Promise<void>((resolve) => again.listen(Number(new URL(url).port), '127.0.0.1', resolve));
    await publisher.close();
    expect(publisher.stats()).toMatchObject({ sent: 1, refused: 0 });
    again.closeAllConnections();
    await new Promise((resolve) => again.close(resolve));
  });

  it('cuts off a request with no answer after requestTimeoutMs and sends it again', async () => {
    const { server, publisher, errors } = await setup((r) => (r.n === 0 ? 'hang' : accept()), { requestTimeoutMs: 500 });
    await publisher.publish(event(1));
    await publisher.flush();
    expect(server.received.length).toBeGreaterThanOrEqual(2);
    expect(errors[0]).toMatchObject({ status: 0, code: 'timeout', willRetry: true });
    expect(publisher.stats()).toMatchObject({ sent: 1, refused: 0 });
  });

  it('does not retry another 4xx: flush rejects with the server details, onError is told', async () => {
    const details = [{ index: 1, path: 'payload', message: 'payload must be at most 10 bytes serialized (it is 11)' }];
    const { server, publisher, errors } = await setup((r) =>
      r.n === 0 ? { status: 400, body: { error: 'validation_failed', message: 'an event breaks a rule', details } } : accept(),
    );
    await publishAll(publisher, 0, 3);
    const error = (await publisher.flush().catch((e: unknown) => e)) as FlushError;
    expect(error).toBeInstanceOf(FlushError);
    expect(error.errors).toHaveLength(1);
    const refused = error.errors[0]!;
    expect(refused).toMatchObject({ status: 400, code: 'validation_failed', attempts: 1, willRetry: false, details });
    expect(refused.events[details[0]!.index]).toEqual(event(1));
    expect(error.message).toMatch(/3 events were not published: 3 events refused after 1 attempt: 400 validation_failed/);
    expect(errors).toEqual([refused]);
    expect(server.received).toHaveLength(1);
    expect(publisher.stats()).toMatchObject({ published: 3, sent: 0, refused: 3 });

    // Reported once: the next flush is about the next events only.
    await publisher.publish(event(9));
    await publisher.flush();
    expect(server.received).toHaveLength(2);
  });

  it('gives a batch up after maxRetries and says so', async () => {
    const { server, publisher } = await setup(() => ({ status: 500, body: { error: 'internal' } }), { maxRetries: 2 });
    await publisher.publish(event(1));
    const error = (await publisher.flush().catch((e: unknown) => e)) as FlushError;
    expect(error.errors[0]).toMatchObject({ status: 500, attempts: 3, willRetry: false });
    expect(server.received).toHaveLength(3);
  });

  it('keeps retrying when onError throws', async () => {
    const server = await scriptedServer((r) => (r.n === 0 ? { status: 503, headers: { 'retry-after': '0' } } : accept()));
    const publisher = createPublisher({ url: server.url, onError: () => { throw new Error('handler bug'); } });
    await publisher.publish(event(1));
    await publisher.close();
    expect(server.received).toHaveLength(2);
    await server.close();
  });
});

describe('close', () => {
  // That close stops the timer is tested in package.test.ts: a process that closed its publisher exits.
  it('flushes, can be called twice, and rejects for what was refused', async () => {
    const { server, publisher } = await setup((r) => (r.n === 0 ? { status: 401, body: { error: 'unauthorized' } } : accept()), { maxBatchEvents: 2, concurrency: 1 });
    await publishAll(publisher, 0, 3);
    const closing = publisher.close();
    expect(publisher.close()).toBe(closing);
    await expect(closing).rejects.toThrow(/2 events refused after 1 attempt: 401 unauthorized/);
    expect(ids(server.events())).toEqual(['e-0', 'e-1', 'e-2']);
  });
});

describe('options', () => {
  it('refuses bad options, naming each', () => {
    expect(() => createPublisher({ url: 'ftp://x', maxBatchEvents: 0, gzip: 'yes' as never })).toThrow(
      /createPublisher: url must be an http or https URL; maxBatchEvents must be at least 1; gzip must be true or false/,
    );
  });

  it('refuses an option it does not know, rather than ignoring a typo', () => {
    expect(() => createPublisher({ url: 'http://x', maxBatchSize: 10 } as never)).toThrow('createPublisher: maxBatchSize is not an option');
  });

  it('posts to /publish under the base URL, keeping its path', async () => {
    const { server } = await setup(accept);
    const publisher = createPublisher({ url: `${server.url}/agg` });
    await publisher.publish(event(1));
    await publisher.close();
    expect(server.received[0]!.path).toBe('/agg/publish');
  });

  it("defaults to the server's default limits", () => {
    const { maxTopicLength, maxEventIdLength, maxSourceLength, maxPayloadBytes, maxPayloadDepth, maxEventsPerRequest, maxBodyBytes } = defaultConfig().limits;
    expect(SERVER_DEFAULTS).toEqual({ maxTopicLength, maxEventIdLength, maxSourceLength, maxPayloadBytes, maxPayloadDepth, maxEventsPerRequest, maxBodyBytes });
  });
});
