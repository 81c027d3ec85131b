// `npm run bench -- [options]`: see bench-options.ts or `npm run bench -- --help`.
import { readCommandLine } from '../shared/cli/command-line.ts';
import { parseBenchArgs, USAGE } from './bench-options.ts';
import { findWrk, WRK_MISSING } from './load/wrk.ts';
import { countersOf } from './report/summary-rows.ts';
import { runBench } from './run-bench.ts';

const options = readCommandLine(USAGE, parseBenchArgs);
if (options.publisher === 'node' && findWrk() === null) console.error(`bench: publisher: node, in the bench process (${WRK_MISSING})`);

const started = performance.now();
const report = await runBench(options, (line) => console.error(`bench: ${line}`));
console.log(report.table);
console.log(`\nResults: ${report.files.json} and ${report.files.markdown} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
if (!report.exact) {
  // A fast wrong answer is a failure.
  console.error('bench: FAILED: the counters are not exact:');
  for (const round of report.rounds) for (const problem of countersOf(round).flatMap((c) => c.problems)) console.error(`  round ${round.round}: ${problem}`);
  process.exit(1);
}
process.exit(0);
