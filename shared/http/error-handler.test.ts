import { Writable } from 'node:stream';
import { Hono } from 'hono';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics/metrics.ts';
import { errorHandler, notFound } from './error-handler.ts';
import { tooLarge, unauthorized, unavailable } from './errors.ts';

function appLoggingTo(lines: string[], metrics = createMetrics(), takesEvents = true, level = 'info') {
  const sink = new Writable({ write: (chunk, _encoding, done) => void (lines.push(String(chunk)), done()) });
  return new Hono()
    .get('/too-large', () => { throw tooLarge('the body is over 10 bytes', 10); })
    .post('/publish', () => { throw unavailable('redis', new Error('Connection is closed.')); })
    .post('/buggy', () => { throw unavailable('redis', new TypeError("Cannot read properties of undefined (reading 'id')")); })
    .post('/publish/:tenant', () => { throw unauthorized(); })
    .get('/stats', () => { throw unauthorized(); })
    .get('/boom', () => { throw new Error('relation "events" does not exist at SELECT * FROM events'); })
    .onError(errorHandler(pino({ level, base: { function: 'ingest' } }, sink), metrics, { takesEvents }))
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

  it('logs a refused request at info with function, route pattern, status and code, and nothing of the input', async () => {
    const lines: string[] = [];
    await appLoggingTo(lines).request('/publish/secret-tenant?key=secret-query', { method: 'POST', body: 'secret-body' });
    expect(lines.map((line) => JSON.parse(line))).toEqual([expect.objectContaining({
      level: 30, function: 'ingest', route: '/publish/:tenant', status: 401, code: 'unauthorized', msg: 'Refused request',
    })]);
    expect(lines.join('')).not.toContain('secret');
  });

  it('logs a request refused for a dependency away as one warn line, with the dependency and its error, no stack', async () => {
    const lines: string[] = [];
    const response = await appLoggingTo(lines).request('/publish', { method: 'POST', body: 'secret-body' });
    expect(response.status).toBe(503);
    expect(lines.map((line) => JSON.parse(line))).toEqual([{
      level: 40, time: expect.any(Number), function: 'ingest',
      route: '/publish', status: 503, code: 'unavailable', dependency: 'redis', err: 'Connection is closed.', msg: 'Refused request',
    }]);
    expect(lines.join('')).not.toMatch(/stack|secret|at .*\.ts/);
  });

  it('keeps the stack of a 503 whose cause is a programming error (a TypeError wrapped as an outage)', async () => {
    const lines: string[] = [];
    await appLoggingTo(lines).request('/buggy', { method: 'POST' });
    expect(lines.map((line) => JSON.parse(line))).toEqual([expect.objectContaining({
      level: 40, status: 503, dependency: 'redis', err: "Cannot read properties of undefined (reading 'id')",
      stack: expect.stringContaining('error-handler.test.ts'), msg: 'Refused request',
    })]);
  });

  it('adds the cause in full, stack and all, only at debug level', async () => {
    const lines: string[] = [];
    await appLoggingTo(lines, createMetrics(), true, 'debug').request('/publish', { method: 'POST' });
    const [refused, cause] = lines.map((line) => JSON.parse(line));
    expect(refused).toMatchObject({ level: 40, msg: 'Refused request', err: 'Connection is closed.' });
    expect(cause).toMatchObject({ level: 20, route: '/publish', msg: 'Refused request: its cause', err: { message: 'Connection is closed.', stack: expect.stringContaining('error-handler.test.ts') } });
  });

  it('counts a refused request as rejected events only where events are sent (a POST), not a 401 on /stats', async () => {
    const metrics = createMetrics();
    const app = appLoggingTo([], metrics);
    await app.request('/stats');
    await app.request('/publish/t', { method: 'POST' });
    expect((await metrics.eventsRejected.get()).values).toEqual([expect.objectContaining({ labels: { reason: 'unauthorized' }, value: 1 })]);
  });

  it('counts no rejected events in an app that takes none (a 401 on a dead letter\'s replay)', async () => {
    const metrics = createMetrics();
    await appLoggingTo([], metrics, false).request('/publish/t', { method: 'POST' });
    expect((await metrics.eventsRejected.get()).values).toEqual([]);
  });

  it('quotes at most 100 characters of an unknown path', async () => {
    const response = await appLoggingTo([]).request(`/${'p'.repeat(20_000)}`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: string; message: string };
    expect(body.error).toBe('not_found');
    expect(body.message.length).toBeLessThan(130);
  });
});
