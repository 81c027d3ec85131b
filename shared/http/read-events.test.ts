import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/config.ts';
import { eventSchema } from '../event/event.schema.ts';
import { AppError } from './errors.ts';
import { readEvents } from './read-events.ts';

const config = defaultConfig();
const schema = eventSchema(config.limits);
const event = (id: string) => ({ topic: 'orders', event_id: id, timestamp: '2026-11-25T08:00:00Z', source: 's', payload: {} });

const read = (body: NonNullable<RequestInit['body']>, headers: Record<string, string> = { 'content-type': 'application/json' }, limits = config.limits) =>
  readEvents(new Request('http://x/', { method: 'POST', headers, body }), limits, schema);

/** The AppError a read throws, as the client would see it. */
async function refusal(promise: Promise<unknown>): Promise<Record<string, unknown> & { status: number; message: string }> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  const e = error as AppError;
  return { ...e.toJSON(), status: e.status, message: e.message };
}

describe('readEvents', () => {
  it('reads the three JSON shapes and NDJSON alike', async () => {
    expect(await read(JSON.stringify(event('a')))).toEqual([event('a')]);
    expect(await read(JSON.stringify([event('a'), event('b')]))).toHaveLength(2);
    expect(await read(JSON.stringify({ events: [event('a')] }))).toEqual([event('a')]);
    expect(await read(`${JSON.stringify(event('a'))}\n\n${JSON.stringify(event('b'))}\r\n`, { 'content-type': 'application/x-ndjson' })).toHaveLength(2);
  });

  it('takes media type parameters and case as RFC 9110 says', async () => {
    for (const type of ['APPLICATION/JSON', 'application/json; charset=UTF-8', 'application/json;charset="utf-8"', 'application/json; foo=bar']) {
      expect(await read(JSON.stringify(event('a')), { 'content-type': type })).toHaveLength(1);
    }
    expect(await refusal(read('{}', { 'content-type': 'application/json; charset=utf-16' }))).toMatchObject({ status: 415, message: expect.stringMatching(/UTF-8/) });
  });

  it('says which NDJSON line is broken and what V8 found, without quoting it', async () => {
    const body = `${JSON.stringify(event('a'))}\n{"topic": "orders", "event_id": SECRET-ish-token}\n`;
    const answer = await refusal(read(body, { 'content-type': 'application/x-ndjson' }));
    expect(answer).toMatchObject({ status: 400, error: 'invalid_json', message: expect.stringMatching(/^line 2 is not valid JSON: Unexpected token 'S'$/) });
    expect(answer.message).not.toContain('SECRET');
  });

  it('keeps V8 positions but not excerpts', async () => {
    expect((await refusal(read('{"a":1,}'))).message).toMatch(/^the body is not valid JSON: .*position 7/);
    expect((await refusal(read('[1, 2'))).message).not.toContain('[1');
  });

  it('refuses bodies of the wrong shape with a message that lists the right ones', async () => {
    for (const body of ['null', '1', '"x"', 'false']) {
      expect(await refusal(read(body))).toMatchObject({ status: 400, error: 'invalid_json', message: expect.stringMatching(/one event object, an array of events or/) });
    }
  });

  it('counts events before validating them', async () => {
    const limits = { ...config.limits, maxEventsPerRequest: 2 };
    expect(await refusal(read(JSON.stringify([{}, {}, {}]), undefined, limits))).toMatchObject({ status: 413, error: 'too_large', limit: 2 });
  });

  it('gunzips within the limit and refuses past it', async () => {
    const limits = { ...config.limits, maxBodyBytes: 1000 };
    expect(await read(gzipSync(JSON.stringify(event('a'))), { 'content-type': 'application/json', 'content-encoding': 'gzip' }, limits)).toHaveLength(1);
    const bomb = gzipSync(Buffer.alloc(1001, 0x20));
    expect(bomb.length).toBeLessThan(100);
    expect(await refusal(read(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, limits))).toMatchObject({ status: 413, limit: 1000 });
  });

  it('stops reading a stream at the limit', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024).fill(0x20));
      },
    });
    const request = new Request('http://x/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: endless, duplex: 'half' } as RequestInit);
    expect(await refusal(readEvents(request, { ...config.limits, maxBodyBytes: 10_000 }, schema))).toMatchObject({ status: 413 });
    expect(pulled).toBeLessThan(20);
  });

  it('turns a body that breaks off into incomplete_body, not a 500', async () => {
    const broken = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('[{"topic":'));
        controller.error(new Error('socket hang up'));
      },
    });
    const request = new Request('http://x/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: broken, duplex: 'half' } as RequestInit);
    expect(await refusal(readEvents(request, config.limits, schema))).toMatchObject({ status: 400, error: 'incomplete_body' });
  });

  it('reports an array given as an event once, not as five missing fields', async () => {
    expect(await refusal(read(JSON.stringify([event('a'), [event('b')]])))).toMatchObject({
      error: 'validation_failed',
      details: [{ index: 1, path: '', message: 'an event must be a JSON object' }],
    });
  });
});
