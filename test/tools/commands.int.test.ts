import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/processes.ts';

// Every `npm run` tool, run as a user runs it: `--help` is usage and exit 0, a wrong option is
// one line, the usage and exit 2, and no stack trace anywhere.

const ROOT = join(import.meta.dirname, '../..');
type Run = { code: number; stdout: string; stderr: string };

const npmRun = (script: string, args: string[], env: Record<string, string> = {}) =>
  new Promise<Run>((resolve) => {
    execFile('npm', ['run', '--silent', script, '--', ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });

const STACK = /\n\s+at /;

// Each case spawns npm and tsx, mostly waiting on start-up: they run side by side.
describe.concurrent.each(['dlq', 'chaos', 'publish', 'bench'])('npm run %s', (script) => {
  it('prints its usage on --help and exits 0', async () => {
    const run = await npmRun(script, ['--help']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(new RegExp(`npm run ${script} -- `));
  });

  it('answers an unknown option with one line and the usage, exit 2', async () => {
    const run = await npmRun(script, ['--frobnicate']);
    expect(run.code).toBe(2);
    const [first, blank, usage] = run.stderr.split('\n');
    expect(first).toBe("Unknown option '--frobnicate'");
    expect(blank).toBe('');
    expect(usage).toMatch(new RegExp(`npm run ${script} -- `));
    expect(run.stderr).not.toMatch(STACK);
  });
});

it.concurrent.each([
  ['dlq', ['replay', '--all', 'extra', '--bogus'], "Unknown option '--bogus'"],
  ['dlq', ['purge'], 'unknown command: purge'],
  ['chaos', ['--seconds', 'soon'], '--seconds must be a positive number, not "soon"'],
  ['publish', ['--batch', '5000'], '--batch must be a whole number from 1 to 1000, not "5000"'],
  ['bench', ['--events', '0'], '--events must be a whole number from 1 to 100000000'],
])('npm run %s %j names what is wrong, exit 2', async (script, args, line) => {
  const run = await npmRun(script, args);
  expect(run.code).toBe(2);
  expect(run.stderr.split('\n')[0]).toBe(line);
  expect(run.stderr).not.toMatch(STACK);
});

describe('npm run dlq beside a zero-setup npm start', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'agg-tools-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('reaches the Redis that npm start published in DATA_DIR/servers.env, unless REDIS_URL is set', async () => {
    const published = `redis://127.0.0.1:${await freePort()}`; // nothing listens: the answer shows which URL was used
    await writeFile(join(dataDir, 'servers.env'), `REDIS_URL=${published}\n`);
    const found = await npmRun('dlq', ['list'], { DATA_DIR: dataDir, REDIS_URL: '' });
    expect(found).toMatchObject({ code: 1, stderr: `Redis does not answer at ${published}\n` });
    const given = `redis://127.0.0.1:${await freePort()}`;
    const overridden = await npmRun('dlq', ['list'], { DATA_DIR: dataDir, REDIS_URL: given });
    expect(overridden.stderr).toBe(`Redis does not answer at ${given}\n`);
  });
});
