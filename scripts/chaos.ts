// `npm run chaos -- --seconds 120`: the chaos run of dev/chaos-run.ts, with its report.
import { localServers } from '../runner/local-servers.ts';
import { parseOptions, readCommandLine, UsageError } from '../shared/cli/command-line.ts';

const USAGE = `usage: npm run chaos -- [options]
Publishes with duplicates while killing workers, ingest and Redis at random, then checks that
nothing was lost or counted twice (exit 1 if so). It makes its own database on the PostgreSQL of
TEST_DATABASE_URL (default: the one a running npm start started, else 127.0.0.1:5432) and runs its own redis-server.
  --seconds N         seconds of publishing (default 60)
  --publishers N      concurrent publishers (default 8)
  --batch N           events a request (default 50)
  --processes N       process functions to kill and restart (default 3)
  --kill-every-ms N   mean pause between two kills (default 1500)
  --seed N            seed of the events and of the kills (default: from the clock)`;

const options = readCommandLine(USAGE, (args) => {
  const { values } = parseOptions({
    args,
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
    if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--${name} must be a positive number, not "${values[name]}"`);
    return value;
  };
  return {
    seconds: number('seconds'), publishers: number('publishers'), batch: number('batch'), processes: number('processes'),
    killEveryMs: number('kill-every-ms'), seed: number('seed'),
  };
});

// The PostgreSQL of a running `npm start`, unless TEST_DATABASE_URL names one; set before
// dev/services.ts, which reads it when loaded.
const { DATABASE_URL: startedPostgres } = localServers({ DATA_DIR: process.env.DATA_DIR });
if (!process.env.TEST_DATABASE_URL && startedPostgres) process.env.TEST_DATABASE_URL = startedPostgres;
const { runChaos } = await import('../dev/chaos-run.ts');

const report = await runChaos(options, (line) => console.error(line));

console.log(`
| chaos run (seed ${options.seed}) | |
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
