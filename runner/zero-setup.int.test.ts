import { spawn } from 'node:child_process';
import { access, chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/log/logger.ts';
import { event } from '../dev/harness.ts';
import { freePort, startFunction, type FunctionProcess } from '../dev/processes.ts';
import { createTestDatabase, testRedis, TEST_REDIS_URL, type TestDatabase } from '../dev/services.ts';
import { waitFor } from '../dev/wait.ts';
import { pidIn } from './leftover-server.ts';
import { zeroSetup } from './zero-setup.ts';

// `npm start` on a machine with nothing: the probes point at a closed port, so the
// runner really starts an embedded PostgreSQL and a redis-server of its own.

let dataDir: string;
let nothingThere: string;
const started: FunctionProcess[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'agg-zero-setup-'));
  // As root, PostgreSQL runs as the `postgres` user, which must reach the data directory.
  await chmod(dataDir, 0o755);
  nothingThere = `127.0.0.1:${await freePort()}`;
});

const exists = (path: string) => access(path).then(() => true, () => false);

/** Whatever a failed run left running is stopped by its pid file, so no server outlives the test. */
async function stopLeftovers() {
  for (const pidFile of [join(dataDir, 'postgres', 'postmaster.pid'), join(dataDir, 'redis', 'redis.pid')]) {
    const pid = await pidIn(pidFile);
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

afterAll(async () => {
  for (const runner of started) await runner.kill();
  await stopLeftovers();
  await rm(dataDir, { recursive: true, force: true });
});

describe('with neither URL given and nothing answering', () => {
  const env = () => ({
    DATABASE_URL: '',
    REDIS_URL: '',
    DATA_DIR: dataDir,
    ZERO_SETUP_PROBE_PG: nothingThere,
    ZERO_SETUP_PROBE_REDIS: nothingThere,
    QUEUE_PREFIX: 'zero-setup',
  });
  const stats = async (runner: FunctionProcess) => (await (await fetch(`${runner.url}/stats`)).json()) as Record<string, number>;

  // The first start creates the PostgreSQL cluster (initdb), which takes long on a busy
  // machine: it runs in-process here, with time to spare, before the runner is spawned.
  it('creates and starts an embedded PostgreSQL and a redis-server with AOF, and stops them', async () => {
    const lines: string[] = [];
    const logger = createLogger('local', 'info', { write: (line: string) => void lines.push(line) });
    const setup = await zeroSetup(env(), logger);
    expect(Object.keys(setup.env).sort()).toEqual(['DATABASE_URL', 'REDIS_URL']);
    const redis = new Redis(setup.env.REDIS_URL as string);
    const postgres = new pg.Client({ connectionString: setup.env.DATABASE_URL });
    try {
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await redis.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
      await postgres.connect();
      expect((await postgres.query('show server_encoding')).rows).toEqual([{ server_encoding: 'UTF8' }]);
    } finally {
      redis.disconnect();
      await postgres.end();
    }
    // The other commands find the servers by the file it writes: both URLs, readable by the owner only.
    const published = join(dataDir, 'servers.env');
    expect(await readFile(published, 'utf8')).toBe(`REDIS_URL=${setup.env.REDIS_URL}\nDATABASE_URL=${setup.env.DATABASE_URL}\n`);
    expect((await stat(published)).mode & 0o077).toBe(0);
    await setup.stop();
    expect(await exists(published)).toBe(false);
    const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toEqual([
      'Started a local redis-server', 'Creating an embedded PostgreSQL cluster', 'Started an embedded PostgreSQL',
      'The URLs of the servers started are in the file (for npm run dlq, npm run chaos, psql)',
      'Stopped the embedded PostgreSQL', 'Stopped the local redis-server',
    ]);
    expect(await exists(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    expect(await exists(join(dataDir, 'redis', 'redis.pid'))).toBe(false);
  }, 120_000);

  it('as npm start: starts both, says so, stores and reads events, and stops them with itself', async () => {
    const runner = await startFunction('runner/local.ts', env());
    started.push(runner);
    const published = await fetch(`${runner.url}/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([event({ event_id: 'z1', payload: { city: 'Zürich' } }), event({ event_id: 'z2' }), event({ event_id: 'z1', payload: { city: 'Zürich' } })]),
    });
    expect(published.status).toBe(202);
    const done = await waitFor(async () => {
      const s = await stats(runner);
      return s.pending === 0 && s.unique_processed === 2 ? s : null;
    }, { what: 'the events stored in the embedded PostgreSQL' });
    expect(done).toMatchObject({ received: 3, duplicate_dropped: 1 });
    const page = (await (await fetch(`${runner.url}/events?topic=orders`)).json()) as { events: Array<{ payload: unknown }> };
    expect(page.events.map((e) => e.payload)).toEqual([{ city: 'Zürich' }, { amount: 10 }]);

    expect(runner.output()).toContain('"msg":"Started an embedded PostgreSQL"');
    expect(runner.output()).toContain('"msg":"Started a local redis-server"');
    expect(await exists(join(dataDir, 'redis', 'appendonlydir'))).toBe(true);

    expect(await runner.stop()).toBe(0);
    expect(runner.output()).toContain('"msg":"Stopped the embedded PostgreSQL"');
    expect(runner.output()).toContain('"msg":"Stopped the local redis-server"');
    // Both servers are down: each removes its pid file when it stops.
    expect(await exists(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    expect(await exists(join(dataDir, 'redis', 'redis.pid'))).toBe(false);
  });

  it('finds its data again on the next start, in PostgreSQL and in Redis', async () => {
    const runner = await startFunction('runner/local.ts', env());
    started.push(runner);
    expect(await stats(runner)).toMatchObject({ received: 3, unique_processed: 2, duplicate_dropped: 1, pending: 0 });
    expect(runner.output()).not.toContain('Creating an embedded PostgreSQL cluster');
    // A crash: the runner cannot stop its servers, which keep running on the data.
    await runner.kill();
    expect(await exists(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(true);
    expect(await exists(join(dataDir, 'redis', 'redis.pid'))).toBe(true);
  });

  it('after a crash, stops the servers left running before it starts its own', async () => {
    const runner = await startFunction('runner/local.ts', env());
    started.push(runner);
    expect(runner.output()).toContain('"msg":"Stopped a redis-server left running by an earlier start"');
    expect(runner.output()).toContain('"msg":"Stopped a postgres left running by an earlier start"');
    expect(await stats(runner)).toMatchObject({ received: 3, unique_processed: 2, duplicate_dropped: 1, pending: 0 });
    expect(await runner.stop()).toBe(0);
  });
});

it('stops with one line saying how to get Redis when redis-server is not installed, leaving nothing behind', async () => {
  const elsewhere = join(dataDir, 'never');
  const child = spawn(process.execPath, ['--import', 'tsx', 'runner/local.ts'], {
    cwd: join(import.meta.dirname, '..'),
    env: { PATH: '', REDIS_URL: '', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/unused', DATA_DIR: elsewhere, ZERO_SETUP_PROBE_REDIS: nothingThere },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  expect(code).toBe(1);
  expect(stderr.trim().split('\n')).toEqual([
    `No Redis at ${nothingThere} and REDIS_URL is not set: install one (apt-get install redis-server) or run one (docker run -d -p 127.0.0.1:6379:6379 redis:7.4-alpine), or set REDIS_URL.`,
  ]);
  expect(await exists(elsewhere)).toBe(false);
});

describe('with both URLs given', () => {
  let database: TestDatabase;
  const redis = testRedis('zero-setup-given');
  beforeAll(async () => {
    database = await createTestDatabase('zero_setup_given', { migrate: false });
  });
  afterAll(async () => {
    await redis.cleanup();
    await database.drop();
  });

  it('uses them and starts nothing, even when nothing answers at the default addresses', async () => {
    const runner = await startFunction('runner/local.ts', {
      DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix, DATA_DIR: join(dataDir, 'unused'),
      ZERO_SETUP_PROBE_PG: nothingThere, ZERO_SETUP_PROBE_REDIS: nothingThere,
    });
    started.push(runner);
    expect((await fetch(`${runner.url}/readyz`)).status).toBe(200);
    expect(await runner.stop()).toBe(0);
    expect(runner.output()).not.toContain('Started');
    expect(await exists(join(dataDir, 'unused'))).toBe(false);
  });
});
