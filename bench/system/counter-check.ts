import { sql } from 'kysely';
import type { Db } from '../../shared/db/database.ts';
import type { Expected, PhaseData } from '../data/phase-data.ts';

type Stats = {
  received: number; unique_processed: number; duplicate_dropped: number; pending: number; dead_lettered: number;
  topics: Array<{ topic: string; unique_processed: number; duplicate_dropped: number }>;
};

export type CounterCheck = { exact: boolean; problems: string[]; stats: Omit<Stats, 'topics'>; rows: number };

/**
 * The end of a run: /stats as a user reads it must show exactly what was sent
 * (received, unique, duplicates, per topic), the contract's invariant must
 * hold, and each phase must have stored exactly its own unique keys.
 */
export async function checkCounters(statsUrl: string, db: Db, expected: Expected, phases: readonly PhaseData[]): Promise<CounterCheck> {
  const stats = (await (await fetch(`${statsUrl}/stats`)).json()) as Stats;
  const perPhase = await sql<{ phase: string; n: number }>`
    SELECT split_part(event_id, '-', 1) AS phase, count(*)::int AS n FROM events GROUP BY 1`.execute(db);
  const rowsOf = new Map(perPhase.rows.map((r) => [r.phase, r.n]));
  const rows = perPhase.rows.reduce((sum, r) => sum + r.n, 0);

  const problems: string[] = [];
  const expect = (what: string, actual: number, wanted: number) => {
    if (actual !== wanted) problems.push(`${what} is ${actual}, expected ${wanted}`);
  };
  expect('received', stats.received, expected.received);
  expect('unique_processed', stats.unique_processed, expected.unique);
  expect('duplicate_dropped', stats.duplicate_dropped, expected.duplicates);
  expect('pending', stats.pending, 0);
  expect('dead_lettered', stats.dead_lettered, 0);
  expect('received - (unique + duplicates + pending + dead)', stats.received - (stats.unique_processed + stats.duplicate_dropped + stats.pending + stats.dead_lettered), 0);
  expect('stored rows', rows, stats.unique_processed);
  for (const phase of phases) expect(`rows of phase ${phase.name}`, rowsOf.get(phase.name) ?? 0, phase.plan.unique);
  for (const [topic, counts] of expected.topics) {
    const got = stats.topics.find((t) => t.topic === topic);
    expect(`unique_processed of topic ${topic}`, got?.unique_processed ?? 0, counts.unique);
    expect(`duplicate_dropped of topic ${topic}`, got?.duplicate_dropped ?? 0, counts.duplicates);
  }
  const { topics: _topics, ...totals } = stats;
  return { exact: problems.length === 0, problems, stats: totals, rows };
}
