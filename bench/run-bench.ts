import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ADMIN_DATABASE_URL, TEST_REDIS_URL } from '../dev/services.ts';
import type { BenchOptions } from './bench-options.ts';
import { profileDirOf, runRound, type RoundResult } from './bench-round.ts';
import { describeMachine, type Machine } from './probes/machine.ts';
import { compiledEntries, SOURCE_ENTRIES } from './system/compiled-build.ts';
import { renderMarkdown, renderTable } from './report/markdown.ts';
import { countersOf, summaryRows, type SummaryRow } from './report/summary-rows.ts';

export type BenchReport = {
  stamp: string;
  options: BenchOptions;
  machine: Machine;
  rounds: RoundResult[];
  rows: SummaryRow[];
  /** Every round's counters were exact. */
  exact: boolean;
  table: string;
  files: { json: string; markdown: string };
};

/**
 * `npm run bench`: `repeats` rounds, the medians, and the results written as
 * `<out>/<stamp>.json` (everything measured) and `<out>/latest.md` (the table
 * and the evidence). Progress goes to `log`.
 */
export async function runBench(options: BenchOptions, log: (line: string) => void): Promise<BenchReport> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  let machine: Machine;
  try {
    machine = await describeMachine(ADMIN_DATABASE_URL, redis);
  } finally {
    redis.disconnect();
  }
  if (options.compiled) log('compiling the functions with infra/build.sh');
  const entries = options.compiled ? compiledEntries() : SOURCE_ENTRIES;
  const rounds: RoundResult[] = [];
  try {
    for (let round = 1; round <= options.repeats; round++) {
      const tag = (line: string) => log(`[round ${round}/${options.repeats}] ${line}`);
      rounds.push(await runRound(options, round, { entries, profileDir: options.cpuProf ? profileDirOf(options.out, stamp, round) : null }, tag));
      tag(`done in ${rounds.at(-1)!.seconds.toFixed(0)} s`);
    }
  } finally {
    entries.remove();
  }
  const rows = summaryRows(options, rounds);
  mkdirSync(options.out, { recursive: true });
  const files = { json: join(options.out, `${stamp}.json`), markdown: join(options.out, 'latest.md') };
  writeFileSync(files.json, `${JSON.stringify({ stamp, options, machine, rows, rounds }, null, 2)}\n`);
  writeFileSync(files.markdown, renderMarkdown({ stamp, options, machine, rounds, rows }));
  return { stamp, options, machine, rounds, rows, exact: rounds.every((r) => countersOf(r).every((c) => c.exact)), table: renderTable(rows, rounds.length), files };
}
