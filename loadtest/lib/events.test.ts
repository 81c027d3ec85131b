import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventAt, eventsBetween, expectedCounts, keyAt, planRun } from './events.js';

const keysOf = (plan: ReturnType<typeof planRun>) => Array.from({ length: plan.total }, (_, p) => keyAt(plan, p));

describe('the shared event generator (loadtest/lib/events.js)', () => {
  it('makes the seed scenario: 20,000 events, exactly 6,000 of them duplicates', () => {
    const plan = planRun({ total: 20_000, duplicateRatio: 0.3 });
    const keys = keysOf(plan);
    expect(new Set(keys).size).toBe(14_000);
    expect(expectedCounts(plan)).toMatchObject({ unique: 14_000, duplicates: 6_000 });
  });

  it('holds round(total x ratio) duplicates for any size and ratio, keeping one original at least', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.double({ min: 0, max: 0.95, noNaN: true }), fc.integer({ min: 0, max: 10_000 }), (total, ratio, seed) => {
        const plan = planRun({ total, duplicateRatio: ratio, seed });
        const distinct = new Set(keysOf(plan)).size;
        return distinct === total - Math.min(Math.round(total * ratio), total - 1) && distinct === plan.unique;
      }),
      { numRuns: 150 },
    );
  });

  it('is deterministic for a seed, and a different seed orders the events differently', () => {
    const a = planRun({ total: 1000, seed: 7, runId: 'r' });
    const b = planRun({ total: 1000, seed: 7, runId: 'r' });
    expect(eventsBetween(a, 0, 1000)).toEqual(eventsBetween(b, 0, 1000));
    const c = planRun({ total: 1000, seed: 8, runId: 'r' });
    expect(keysOf(c)).not.toEqual(keysOf(a));
    expect(new Set(keysOf(c)).size).toBe(new Set(keysOf(a)).size);
  });

  it('sends a repeated key as the very same event, as a retrying publisher does', () => {
    const plan = planRun({ total: 500, duplicateRatio: 0.5, runId: 'same' });
    const byId = new Map<string, unknown>();
    for (const event of eventsBetween(plan, 0, 500)) {
      const earlier = byId.get(event.event_id);
      if (earlier) expect(event).toEqual(earlier);
      byId.set(event.event_id, event);
    }
    expect(byId.size).toBe(250);
  });

  it('counts per topic what /stats reports per topic', () => {
    const plan = planRun({ total: 2000, duplicateRatio: 0.3, topics: ['a', 'b', 'c'] });
    const counts = expectedCounts(plan);
    const seen = new Set<string>();
    const tally: Record<string, { unique: number; duplicates: number }> = {};
    for (let p = 0; p < plan.total; p++) {
      const e = eventAt(plan, p);
      const t = (tally[e.topic] ??= { unique: 0, duplicates: 0 });
      if (seen.has(e.event_id)) t.duplicates++;
      else seen.add(e.event_id), t.unique++;
    }
    expect(counts.topics).toEqual(tally);
  });

  it('gives slices that add up to the whole run, so publishers can split it', () => {
    const plan = planRun({ total: 1050 });
    const slices = [eventsBetween(plan, 0, 400), eventsBetween(plan, 400, 1000), eventsBetween(plan, 1000, 2000)];
    expect(slices.map((s) => s.length)).toEqual([400, 600, 50]);
    expect(slices.flat()).toEqual(eventsBetween(plan, 0, 1050));
  });

  it('keeps an original when rounding would make every event a duplicate', () => {
    expect(planRun({ total: 1, duplicateRatio: 0.5 })).toMatchObject({ unique: 1, duplicates: 0 });
    expect(new Set(keysOf(planRun({ total: 3, duplicateRatio: 0.9 })))).toEqual(new Set([0]));
  });

  it('rejects a plan that cannot exist', () => {
    expect(() => planRun({ total: 0 })).toThrow(/total/);
    expect(() => planRun({ total: 10, duplicateRatio: 1 })).toThrow(/duplicateRatio/);
  });
});
