// `npm run chaos -- --seconds 120`: the chaos run of test/chaos/chaos-run.ts, with its report.
import { parseArgs } from 'node:util';
import { runChaos } from '../test/chaos/chaos-run.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    publishers: { type: 'string', default: '8' },
    batch: { type: 'string', default: '50' },
    processes: { type: 'string', default: '3' },
    'kill-every-ms': { type: 'string', default: '1500' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
  },
});
const number = (name: keyof typeof values) => {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
};

const report = await runChaos({
  seconds: number('seconds'), publishers: number('publishers'), batch: number('batch'), processes: number('processes'),
  killEveryMs: number('kill-every-ms'), seed: number('seed'),
}, (line) => console.error(line));

console.log(`
| chaos run (seed ${values.seed}) | |
| --- | ---: |
| seconds of publishing | ${report.seconds} |
| requests (with retries) | ${report.requests} |
| events accepted (202) | ${report.eventsAccepted} |
| worker kills (SIGKILL) | ${report.workerKills} |
| ingest kills (SIGKILL) | ${report.ingestKills} |
| Redis kills and restarts | ${report.redisRestarts} |
| received / unique / duplicates / dead | ${report.final.received} / ${report.final.unique} / ${report.final.duplicates} / ${report.final.dead} |
| **lost** (202 but not stored) | **${report.lost}** |
| **double-counted** (unique − rows) | **${report.doubleCounted}** |
| **invariant off by** | **${report.invariantOff}** |
`);
process.exit(report.lost === 0 && report.doubleCounted === 0 && report.invariantOff === 0 ? 0 : 1);
