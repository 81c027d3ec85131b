import { Writable } from 'node:stream';
import { Hono } from 'hono';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics/metrics.ts';
import { errorHandler, notFound } from './error-handler.ts';
import { tooLarge } from './errors.ts';

function appLoggingTo(lines: string[]) {
  const sink = new Writable({ write: (chunk, _encoding, done) => void (lines.push(String(chunk)), done()) });
  return new Hono()
    .get('/too-large', () => { throw tooLarge('the body is over 10 bytes', 10); })
    .get('/boom', () => { throw new Error('relation "events" does not exist at SELECT * FROM events'); })
    .onError(errorHandler(pino({ level: 'info' }, sink), createMetrics()))
    .notFound(notFound);
}

describe('errorHandler', () => {
  it('renders an AppError as the contract body, with its own fields', async () => {
    const response = await appLoggingTo([]).request('/too-large');
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: 'too_large', message: 'the body is over 10 bytes', limit: 10 });
  });

  it('hides an unexpected error from the client and logs it in full', async () => {
    const lines: string[] = [];
    const response = await appLoggingTo(lines).request('/boom');
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: 'internal', message: 'internal error' });
    expect(text).not.toMatch(/SELECT|relation|stack/);
    expect(lines.join('')).toContain('relation \\"events\\" does not exist');
  });

  it('quotes at most 100 characters of an unknown path', async () => {
    const response = await appLoggingTo([]).request(`/${'p'.repeat(20_000)}`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: string; message: string };
    expect(body.error).toBe('not_found');
    expect(body.message.length).toBeLessThan(130);
  });
});
