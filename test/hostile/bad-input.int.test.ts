import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event } from '../../dev/harness.ts';
import { startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { TEST_REDIS_URL, testRedis } from '../../dev/services.ts';
import { invalidBody } from './arbitraries.ts';
import { queueProbe } from './queue-probe.ts';

// The contract's refusals, each sent over HTTP to a real ingest process: every
// case must answer its status and code, and leave the queue and `received` at 0.

const r = testRedis('hostile-input');
const probe = queueProbe(r.redis, r.prefix);
let ingest: FunctionProcess;

beforeAll(async () => {
  ingest = await startFunction('functions/ingest/server.ts', {
    REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: r.prefix, INGEST_API_KEYS: '', LOG_LEVEL: 'info',
  });
});

afterAll(async () => {
  await ingest?.stop();
  await r.cleanup();
});

const JSON_TYPE = { 'content-type': 'application/json' };
const MiB = 1024 * 1024;

type Case = {
  name: string;
  body: string | Buffer;
  headers?: Record<string, string>;
  status: number;
  code: string;
  /** The first detail of a validation_failed answer. */
  detail?: { index: number; path: string };
  message?: RegExp;
};

const json = (value: unknown) => JSON.stringify(value);
const withPayload = (payloadText: string) => `{"topic":"orders","event_id":"e-1","timestamp":"2026-11-25T08:00:00Z","source":"s","payload":${payloadText}}`;
const invalid = (name: string, overrides: Record<string, unknown>, path: string, index = 0): Case => ({
  name, body: json(event(overrides)), status: 400, code: 'validation_failed', detail: { index, path },
});
const badTimestamp = (name: string, timestamp: unknown) => invalid(`timestamp ${name}`, { timestamp }, 'timestamp');
const { topic: _t, ...withoutTopic } = event();
const { payload: _p, ...withoutPayload } = event();
const deepNesting = 100_000;

const CASES: Case[] = [
  // Malformed bodies.
  { name: 'malformed JSON', body: '{"topic":', status: 400, code: 'invalid_json' },
  { name: 'JSON with trailing garbage', body: `${json(event())}x`, status: 400, code: 'invalid_json' },
  { name: 'JSON NaN literal', body: withPayload('{"n":NaN}'), status: 400, code: 'invalid_json' },
  { name: 'body is JSON null', body: 'null', status: 400, code: 'invalid_json', message: /one event object/ },
  { name: 'body is a JSON number', body: '42', status: 400, code: 'invalid_json' },
  { name: 'body is a JSON string', body: '"orders"', status: 400, code: 'invalid_json' },
  { name: 'body is JSON true', body: 'true', status: 400, code: 'invalid_json' },
  { name: 'events is not an array', body: '{"events":{}}', status: 400, code: 'invalid_json', message: /"events" must be an array/ },
  { name: 'events is null', body: '{"events":null}', status: 400, code: 'invalid_json' },
  { name: 'events beside another field', body: `{"events":[${json(event())}],"extra":1}`, status: 400, code: 'invalid_json' },
  { name: 'body not UTF-8', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), status: 400, code: 'invalid_json', message: /UTF-8/ },
  { name: 'NDJSON with a bad line 3', body: `${json(event())}\n${json(event({ event_id: 'e-2' }))}\n{"topic":\n`, headers: { 'content-type': 'application/x-ndjson' }, status: 400, code: 'invalid_json', message: /line 3/ },
  { name: 'NDJSON with CRLF and a bad line 2', body: `${json(event())}\r\n[1,\r\n`, headers: { 'content-type': 'application/x-ndjson' }, status: 400, code: 'invalid_json', message: /line 2/ },
  { name: 'NDJSON line that is an array', body: `${json(event())}\n[${json(event({ event_id: 'e-2' }))}]\n`, headers: { 'content-type': 'application/x-ndjson' }, status: 400, code: 'validation_failed', detail: { index: 1, path: '' } },
  { name: 'malformed JSON with a long input is not echoed', body: `{"topic": ${'x'.repeat(300_000)}}`, status: 400, code: 'invalid_json' },
  // Empty and too many.
  { name: 'empty array', body: '[]', status: 400, code: 'empty_batch' },
  { name: 'empty events wrapper', body: '{"events":[]}', status: 400, code: 'empty_batch' },
  { name: 'empty body', body: '', status: 400, code: 'empty_batch' },
  { name: 'NDJSON of blank lines', body: '\n\n  \n', headers: { 'content-type': 'application/x-ndjson' }, status: 400, code: 'empty_batch' },
  { name: '1001 events', body: json(Array.from({ length: 1001 }, (_, i) => event({ event_id: `e-${i}` }))), status: 413, code: 'too_large' },
  { name: 'body over 5 MiB', body: `[${' '.repeat(5 * MiB)}]`, status: 413, code: 'too_large' },
  { name: 'gzip bomb', body: gzipSync(Buffer.alloc(6 * MiB, 0x20), { level: 9 }), headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, status: 413, code: 'too_large', message: /gunzipped/ },
  // Content type and encoding.
  { name: 'no content type', body: json(event()), headers: {}, status: 415, code: 'unsupported_media_type' },
  { name: 'text/plain', body: json(event()), headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' },
  { name: 'form encoded', body: 'topic=orders', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type' },
  { name: 'multipart', body: json(event()), headers: { 'content-type': 'multipart/form-data; boundary=x' }, status: 415, code: 'unsupported_media_type' },
  { name: 'application/xml', body: '<event/>', headers: { 'content-type': 'application/xml' }, status: 415, code: 'unsupported_media_type' },
  { name: 'JSON in latin-1', body: json(event()), headers: { 'content-type': 'application/json; charset=iso-8859-1' }, status: 415, code: 'unsupported_media_type' },
  { name: 'two media types', body: json(event()), headers: { 'content-type': 'application/json, text/plain' }, status: 415, code: 'unsupported_media_type' },
  { name: 'brotli encoding', body: json(event()), headers: { ...JSON_TYPE, 'content-encoding': 'br' }, status: 415, code: 'unsupported_media_type' },
  { name: 'deflate encoding', body: json(event()), headers: { ...JSON_TYPE, 'content-encoding': 'deflate' }, status: 415, code: 'unsupported_media_type' },
  { name: 'stacked encodings', body: gzipSync(gzipSync(json(event()))), headers: { ...JSON_TYPE, 'content-encoding': 'gzip, gzip' }, status: 415, code: 'unsupported_media_type' },
  { name: 'gzip header on a plain body', body: json(event()), headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, status: 400, code: 'invalid_encoding' },
  { name: 'truncated gzip', body: gzipSync(json(event())).subarray(0, 20), headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, status: 400, code: 'invalid_encoding' },
  { name: 'gzipped NDJSON with a bad line 2', body: gzipSync(`${json(event())}\n{oops}\n`), headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' }, status: 400, code: 'invalid_json', message: /line 2/ },
  // The event table.
  { name: 'an event that is an array', body: json([[event()]]), status: 400, code: 'validation_failed', detail: { index: 0, path: '' } },
  { name: 'missing topic', body: json(withoutTopic), status: 400, code: 'validation_failed', detail: { index: 0, path: 'topic' }, message: /rule/ },
  invalid('empty topic', { topic: '' }, 'topic'),
  invalid('topic of 129 characters', { topic: 'a'.repeat(129) }, 'topic'),
  invalid('topic with a space', { topic: 'or ders' }, 'topic'),
  invalid('topic with an emoji', { topic: 'orders😀' }, 'topic'),
  invalid('topic with a NUL', { topic: 'orders\u0000' }, 'topic'),
  invalid('topic that is a number', { topic: 7 }, 'topic'),
  invalid('empty event_id', { event_id: '' }, 'event_id'),
  invalid('event_id of 129 characters', { event_id: '😀'.repeat(129) }, 'event_id'),
  invalid('event_id with a newline', { event_id: 'e\n1' }, 'event_id'),
  invalid('event_id with a NUL', { event_id: 'e\u00001' }, 'event_id'),
  invalid('event_id with a lone high surrogate', { event_id: 'e\ud800' }, 'event_id'),
  invalid('event_id that is null', { event_id: null }, 'event_id'),
  invalid('source with DEL', { source: 'svc\u007f' }, 'source'),
  invalid('source with a C1 control', { source: 'svc\u0085' }, 'source'),
  invalid('source with a lone low surrogate', { source: '\udc00svc' }, 'source'),
  invalid('source that is an object', { source: { name: 'svc' } }, 'source'),
  badTimestamp('without a zone', '2026-11-25T08:00:00'),
  badTimestamp('31 February', '2026-02-31T00:00:00Z'),
  badTimestamp('29 February of 2025', '2025-02-29T00:00:00Z'),
  badTimestamp('at hour 24', '2026-11-25T24:00:00Z'),
  badTimestamp('with a leap second', '2026-12-31T23:59:60Z'),
  badTimestamp('as epoch seconds', 1764057600),
  badTimestamp('as a date only', '2026-11-25'),
  badTimestamp('with offset +24:00', '2026-11-25T08:00:00+24:00'),
  badTimestamp('with offset +16:00 (beyond PostgreSQL)', '2026-11-25T08:00:00+16:00'),
  badTimestamp('in year 0000', '0000-01-01T00:00:00Z'),
  badTimestamp('before year 1 in UTC', '0001-01-01T00:00:00+01:00'),
  badTimestamp('after year 9999 in UTC', '9999-12-31T23:59:59-01:00'),
  invalid('payload that is an array', { payload: [1, 2] }, 'payload'),
  invalid('payload that is a string', { payload: '{"a":1}' }, 'payload'),
  invalid('payload that is null', { payload: null }, 'payload'),
  { name: 'missing payload', body: json(withoutPayload), status: 400, code: 'validation_failed', detail: { index: 0, path: 'payload' } },
  invalid('payload over 64 KiB', { payload: { blob: 'x'.repeat(64 * 1024) } }, 'payload'),
  invalid('payload 33 levels deep', { payload: JSON.parse(`${'{"a":'.repeat(32)}{}${'}'.repeat(32)}`) }, `payload${'.a'.repeat(32)}`),
  {
    name: 'payload nested 100k levels',
    body: withPayload(`${'{"a":'.repeat(deepNesting)}1${'}'.repeat(deepNesting)}`),
    status: 400, code: 'validation_failed', detail: { index: 0, path: `payload${'.a'.repeat(32)}`.slice(0, 128) },
  },
  invalid('NUL in a nested payload value', { payload: { items: [{ name: 'ok' }, { name: 'a\u0000b' }] } }, 'payload.items.1.name'),
  invalid('NUL in a payload key', { payload: { ok: { 'k\u0000': 1 } } }, 'payload.ok.k\u0000'),
  invalid('lone surrogate in a payload value', { payload: { note: ['fine', 'bad\udfff'] } }, 'payload.note.1'),
  invalid('lone surrogate in a payload key', { payload: { '\ud83d': true } }, 'payload.\ud83d'),
  { name: 'payload number beyond double range', body: withPayload('{"n":[1e400]}'), status: 400, code: 'validation_failed', detail: { index: 0, path: 'payload.n.0' } },
  invalid('unknown top-level field', { extra: 1 }, 'extra'),
  { name: '__proto__ top-level field', body: withPayload('{}').replace(/}$/, ',"__proto__":{"polluted":true}}'), status: 400, code: 'validation_failed', detail: { index: 0, path: '__proto__' } },
  invalid('constructor top-level field', { constructor: 'x' }, 'constructor'),
  { name: 'one bad event in the middle of a batch', body: json([event(), event({ event_id: 'e-2', timestamp: 'soon' }), event({ event_id: 'e-3' })]), status: 400, code: 'validation_failed', detail: { index: 1, path: 'timestamp' } },
  { name: 'a bad event in an events wrapper', body: json({ events: [event(), event({ event_id: 'e-2', source: '' })] }), status: 400, code: 'validation_failed', detail: { index: 1, path: 'source' } },
  { name: 'a huge unknown field name is not echoed', body: json({ ...event(), ['k'.repeat(50_000)]: 1 }), status: 400, code: 'validation_failed', detail: { index: 0, path: 'k'.repeat(128) } },
];

async function send(body: string | Buffer, headers: Record<string, string> = JSON_TYPE) {
  const response = await fetch(`${ingest.url}/`, { method: 'POST', headers, body: Buffer.from(body) });
  return { status: response.status, text: await response.text() };
}

describe('ingest refuses bad input over HTTP and queues nothing', () => {
  it('has at least 40 distinct cases', () => {
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES)('$name → $status $code', async (c) => {
    const { status, text } = await send(c.body, c.headers ?? JSON_TYPE);
    const body = JSON.parse(text) as { error: string; message: string; details?: Array<{ index: number; path: string; message: string }> };
    expect({ status, error: body.error }).toEqual({ status: c.status, error: c.code });
    expect(typeof body.message).toBe('string');
    if (c.detail) expect(body.details?.[0]).toMatchObject(c.detail);
    if (c.message) expect(body.message).toMatch(c.message);
    // Never the input back, never internals.
    expect(text.length).toBeLessThan(4096);
    expect(text).not.toMatch(/xxxxxxxxxxxxxxxx|node_modules|\bat .+:\d+:\d+|Error:|Invalid (type|key)/);
    expect(await probe()).toEqual({ queued: 0, received: 0 });
  });

  it('caps the details at 50 and says which events broke', async () => {
    const events = Array.from({ length: 80 }, (_, i) => event({ event_id: `e-${i}`, topic: i % 2 === 0 ? 'bad topic' : 'orders' }));
    const { status, text } = await send(json(events));
    const body = JSON.parse(text) as { details: Array<{ index: number; path: string }> };
    expect(status).toBe(400);
    expect(body.details).toHaveLength(40);
    expect(body.details.every((d) => d.index % 2 === 0 && d.path === 'topic')).toBe(true);
    const many = Array.from({ length: 120 }, (_, i) => event({ event_id: `e-${i}`, source: '' }));
    expect((JSON.parse((await send(json(many))).text) as { details: unknown[] }).details).toHaveLength(50);
    expect(await probe()).toEqual({ queued: 0, received: 0 });
  });
});

/** POSTs up to `totalBytes` of spaces in a JSON array, stopping as soon as the server answers. */
function streamUntilAnswered(url: string, headers: Record<string, string>, totalBytes: number) {
  return new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...JSON_TYPE, ...headers } });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (part: string) => (body += part));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, sent });
        req.destroy();
      });
    });
    // The server may close the connection once it has answered; only an error before the answer counts.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const pump = () => {
      while (!answered && sent < totalBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    req.write('[');
    pump();
  });
}

describe('a body over the limit is cut off early', () => {
  const GiB = 1024 * MiB;

  it('answers 413 to a 1 GiB chunked upload after reading little more than the limit', async () => {
    const answer = await streamUntilAnswered(`${ingest.url}/`, {}, GiB);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'too_large', limit: 5 * MiB });
    expect(answer.sent).toBeLessThan(64 * MiB);
    expect(await probe()).toEqual({ queued: 0, received: 0 });
  });

  it('answers 413 to a declared 1 GiB body before reading it', async () => {
    const answer = await streamUntilAnswered(`${ingest.url}/`, { 'content-length': String(GiB) }, GiB);
    expect(answer.status).toBe(413);
    expect(answer.sent).toBeLessThan(64 * MiB);
    expect(await probe()).toEqual({ queued: 0, received: 0 });
  });
});

describe('random bodies', () => {
  const CONTENT_TYPES = ['application/json', 'application/x-ndjson', 'Application/JSON; charset="UTF-8"', 'text/plain', undefined];
  const ENCODINGS = ['none', 'gzip', 'gzip header only', 'br'] as const;
  const RUNS = 2000;

  it(`${RUNS} bodies that break a rule are all refused with a 4xx, and the service stays ready`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(invalidBody, fc.constantFrom(...CONTENT_TYPES), fc.constantFrom(...ENCODINGS), async (body, contentType, encoding) => {
        const headers: Record<string, string> = {};
        if (contentType) headers['content-type'] = contentType;
        if (encoding !== 'none') headers['content-encoding'] = encoding === 'gzip header only' ? 'gzip' : encoding;
        const { status, text } = await send(encoding === 'gzip' ? gzipSync(body) : body, headers);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        expect([400, 413, 415]).toContain(status);
        expect(JSON.parse(text)).toHaveProperty('error');
      }),
      { numRuns: RUNS },
    );
    expect([...statuses.keys()].sort()).toEqual([400, 415]);
    expect((await fetch(`${ingest.url}/readyz`)).status).toBe(200);
    expect(await probe()).toEqual({ queued: 0, received: 0 });
    expect(ingest.output()).not.toMatch(/Unhandled error|"level":50/);
  });
});

describe('the variants the contract allows are accepted', () => {
  it('takes charset parameters, upper case, NDJSON and gzip', async () => {
    const variants: Array<[Record<string, string>, string | Buffer]> = [
      [{ 'content-type': 'Application/JSON; Charset="UTF-8"' }, json(event({ event_id: 'v-1' }))],
      [{ 'content-type': 'application/json;charset=utf-8', 'content-encoding': 'GZIP' }, gzipSync(json([event({ event_id: 'v-2' })]))],
      [{ 'content-type': 'application/x-ndjson', 'content-encoding': 'x-gzip' }, gzipSync(`${json(event({ event_id: 'v-3' }))}\r\n\r\n`)],
      [{ 'content-type': 'application/ndjson; charset=utf8' }, `\ufeff${json(event({ event_id: 'v-4' }))}`],
      [{ 'content-type': 'application/json', 'content-encoding': 'identity' }, json({ events: [event({ event_id: 'v-5' })] })],
    ];
    for (const [headers, body] of variants) expect((await send(body, headers)).status).toBe(202);
    expect(await probe()).toEqual({ queued: 5, received: 5 });
  });
});
