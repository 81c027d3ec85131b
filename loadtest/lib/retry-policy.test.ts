import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './retry-policy.js';

describe('retryDelayMs (shared by k6 and the Node publisher)', () => {
  it('treats an acceptance and a request the service rejects for good as final', () => {
    for (const status of [202, 400, 401, 413, 415, 500]) expect(retryDelayMs(status, '1', 0), String(status)).toBeNull();
  });

  it('waits as Retry-After says, in seconds, plus under 100 ms of jitter', () => {
    const wait = retryDelayMs(429, '2', 0)!;
    expect(wait).toBeGreaterThanOrEqual(2000);
    expect(wait).toBeLessThan(2100);
    expect(retryDelayMs(503, '0', 5)).toBeLessThan(100);
  });

  it('understands Retry-After as an HTTP date', () => {
    const now = Date.parse('2026-11-25T08:00:00Z');
    const wait = retryDelayMs(503, 'Wed, 25 Nov 2026 08:00:03 GMT', 0, now)!;
    expect(wait).toBeGreaterThanOrEqual(3000);
    expect(wait).toBeLessThan(3100);
  });

  it('backs off exponentially, capped at 5 s, without a Retry-After or without an answer', () => {
    expect(retryDelayMs(0, null, 0)).toBeLessThan(350);
    expect(retryDelayMs(0, null, 3)).toBeGreaterThanOrEqual(2000);
    expect(retryDelayMs(502, undefined, 20)).toBeLessThan(5100);
    expect(retryDelayMs(429, 'soon', 1)).toBeGreaterThanOrEqual(500);
  });
});
