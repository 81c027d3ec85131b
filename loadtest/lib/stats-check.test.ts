import { describe, expect, it } from 'vitest';
import { planRun } from './events.js';
import { compareStats, expectationOf, formatComparison } from './stats-check.js';

const stats = (received: number, unique: number, duplicates: number, topics: Array<[string, number, number]> = [], pending = 0) => ({
  received,
  unique_processed: unique,
  duplicate_dropped: duplicates,
  pending,
  dead_lettered: 0,
  topics: topics.map(([topic, u, d]) => ({ topic, unique_processed: u, duplicate_dropped: d })),
});

describe('compareStats', () => {
  const plan = planRun({ total: 10, duplicateRatio: 0.3, topics: ['a'] });
  const expected = expectationOf(plan);

  it('matches when /stats gained exactly what the run sent, whatever it held before', () => {
    const result = compareStats(expected, stats(100, 70, 30, [['a', 70, 30]]), stats(110, 77, 33, [['a', 77, 33]]));
    expect(result.ok).toBe(true);
    expect(formatComparison(result).at(-1)).toContain('matches');
  });

  it('names each counter that differs, per topic too, and a queue not yet drained', () => {
    const result = compareStats(expected, stats(0, 0, 0), stats(10, 6, 3, [['a', 6, 3]], 1));
    expect(result.ok).toBe(false);
    expect(result.rows.filter((r) => !r.ok).map((r) => r.name)).toEqual(['unique_processed', 'pending', 'a unique']);
    expect(formatComparison(result).join('\n')).toMatch(/unique_processed\s+7\s+6\s+MISMATCH/);
  });
});
