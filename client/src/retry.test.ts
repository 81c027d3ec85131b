import { describe, expect, it } from 'vitest';
import { isRetryable, retryAfterMs, retryDelayMs } from './retry.ts';

describe('isRetryable', () => {
  it('retries no answer, 408, 429 and 5xx, and nothing else', () => {
    expect([0, 408, 429, 500, 502, 503, 504].every(isRetryable)).toBe(true);
    expect([400, 401, 403, 404, 413, 415].some(isRetryable)).toBe(false);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-11-25T08:00:00Z');
  it('reads seconds and HTTP dates, and ignores what it cannot read', () => {
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Wed, 25 Nov 2026 08:00:03 GMT', now)).toBe(3000);
    expect(retryAfterMs('Wed, 25 Nov 2026 07:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('-1', now)).toBeNull();
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
  });
});

describe('retryDelayMs', () => {
  const least = () => 0;
  const most = () => 0.999;
  it('honours Retry-After on 429 and 503, with at most 100 ms of jitter', () => {
    expect(retryDelayMs(429, '2', 5, least)).toBe(2000);
    expect(retryDelayMs(503, '2', 5, most)).toBe(2099);
  });

  it('backs off exponentially from 100 ms to 5 s, half of it random, otherwise', () => {
    expect([0, 1, 2, 3, 10].map((attempt) => retryDelayMs(500, '2', attempt, least))).toEqual([50, 100, 200, 400, 2500]);
    expect([0, 1, 10].map((attempt) => retryDelayMs(0, null, attempt, most))).toEqual([99, 199, 4997]);
    expect(retryDelayMs(429, null, 1, least)).toBe(100);
  });
});
