import { describe, expect, it } from 'vitest';
import { timestampProblem } from './timestamp.ts';

describe('timestampProblem', () => {
  it.each([
    '2026-11-25T08:00:00Z', '2026-11-25t08:00:00z', '2024-02-29T00:00:00Z', '2000-02-29T12:00:00+01:00', '2026-11-25T08:00:00.123456789-05:30',
    '2026-11-25T08:00:00-00:00', '2026-11-25T08:00:00+15:59', '0001-01-01T00:00:00Z', '0001-01-01T00:30:00+00:30', '9999-12-31T23:59:59.999999Z',
  ])('accepts %s', (value) => {
    expect(timestampProblem(value)).toBeNull();
  });

  it.each([
    ['2026-11-25T08:00:00', /RFC 3339/],
    ['2026-11-25', /RFC 3339/],
    ['2026-11-25 08:00:00Z', /RFC 3339/],
    ['2026-11-25T08:00:00+0100', /RFC 3339/],
    ['2026-11-25T08:00:00.1234567890Z', /RFC 3339/],
    ['0000-06-01T00:00:00Z', /year/],
    ['2026-13-01T00:00:00Z', /month/],
    ['2026-02-31T00:00:00Z', /day 31 does not exist in 2026-02/],
    ['2025-02-29T00:00:00Z', /day 29/],
    ['1900-02-29T00:00:00Z', /day 29/],
    ['2026-04-31T00:00:00Z', /day 31/],
    ['2026-11-25T24:00:00Z', /time of day/],
    ['2026-11-25T08:60:00Z', /time of day/],
    ['2026-12-31T23:59:60Z', /leap seconds/],
    ['2026-11-25T08:00:00+16:00', /±15:59/],
    ['2026-11-25T08:00:00+01:60', /±15:59/],
    ['0001-01-01T00:00:00+00:01', /instant from 0001/],
    ['9999-12-31T23:59:59-00:01', /instant from 0001/],
    ['9999-12-31T23:59:59.9999999Z', /instant from 0001/],
  ])('refuses %s', (value, problem) => {
    expect(timestampProblem(value)).toMatch(problem);
  });

  it('never quotes more than the date it checks', () => {
    expect(timestampProblem(`2026-11-25T08:00:00Z${'x'.repeat(10_000)}`)?.length).toBeLessThan(120);
  });
});
