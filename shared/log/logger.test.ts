import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

/** The lines a logger writes, parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('ingest', 'info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('log lines', () => {
  it('name their function and keep the fields they were given', () => {
    const { logger, lines } = capture();
    logger.info({ batch_id: 'b1', events: 3 }, 'Enqueued event');
    expect(lines[0]).toMatchObject({ function: 'ingest', msg: 'Enqueued event', batch_id: 'b1', events: 3, level: 30 });
  });

  it('never show an API key, in any field that holds headers, and leave the logged objects untouched', () => {
    const { logger, lines } = capture();
    const req = { method: 'POST', headers: { authorization: 'Bearer s3cret', 'x-api-key': 'k3y', 'content-type': 'application/json' } };
    const err = Object.assign(new TypeError('refused'), { headers: { 'x-api-key': 'k3y' } });
    logger.warn({ req, err, upstream: { headers: { authorization: 'Basic c2VjcmV0' } } }, 'Refused');
    const text = JSON.stringify(lines[0]);
    for (const secret of ['s3cret', 'k3y', 'c2VjcmV0']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      req: { method: 'POST', headers: { authorization: '[Redacted]', 'x-api-key': '[Redacted]', 'content-type': 'application/json' } },
      // Still logged as the error it is.
      err: { type: 'TypeError', message: 'refused', headers: { 'x-api-key': '[Redacted]' } },
      upstream: { headers: { authorization: '[Redacted]' } },
    });
    expect((lines[0]!.err as { stack: string }).stack).toContain('TypeError: refused');
    expect(req.headers.authorization).toBe('Bearer s3cret');
    expect(err.headers['x-api-key']).toBe('k3y');
  });

  it('censor what cannot be copied whole, rather than throw or leak', () => {
    const { logger, lines } = capture();
    const frozen = Object.freeze({ headers: Object.freeze({ authorization: 'Bearer s3cret' }) });
    const readOnly = Object.defineProperty({ id: 1 }, 'headers', { value: { 'x-api-key': 'k3y' }, enumerable: true });
    const trap = new Proxy({}, { get: () => { throw new Error('no reading me'); } });
    logger.info({ frozen, readOnly, trap }, 'Odd fields');
    expect(JSON.stringify(lines[0])).not.toMatch(/s3cret|k3y/);
    expect(lines[0]).toMatchObject({ frozen: { headers: { authorization: '[Redacted]' } }, readOnly: { id: 1, headers: { 'x-api-key': '[Redacted]' } }, trap: '[Redacted]' });
  });
});
