import { spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event } from '../dev/harness.ts';
import { freePort, startFunction, type FunctionProcess } from '../dev/processes.ts';
import { createTestDatabase, testRedis, TEST_REDIS_URL, type TestDatabase } from '../dev/services.ts';
import { waitFor } from '../dev/wait.ts';

// `npm start` as a newcomer meets it: what its first line says, where it listens, what its log
// lines name, what it counts; and the settings that stop it before anything is started.

const ROOT = join(import.meta.dirname, '..');
const INGEST_KEY = 'start-ingest-key';
const READ_KEY = 'start-read-key';
type Line = Record<string, unknown> & { msg: string; level: number };
const lines = (runner: FunctionProcess): Line[] =>
  runner.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);

/** The addresses a port is listened on, from the kernel's socket tables (IPv4 as a.b.c.d, IPv6 as hex). */
async function listeningOn(port: number): Promise<string[]> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of (await readFile(table, 'utf8')).split('\n').slice(1)) {
      const [, local, , state] = row.trim().split(/\s+/);
      const [address, portHex] = local?.split(':') ?? [];
      if (state !== '0A' || portHex !== hexPort || !address) continue;
      found.push(address.length === 8 ? (address.match(/../g) ?? []).reverse().map((h) => parseInt(h, 16)).join('.') : address);
    }
  }
  return found;
}

describe('npm start with keys, on the default HOST', () => {
  let database: TestDatabase;
  const redis = testRedis('start');
  let runner: FunctionProcess;
  beforeAll(async () => {
    database = await createTestDatabase('start', { migrate: false });
    // The local PostgreSQL trusts every local user, so the password only has to stay out of the log.
    const withPassword = new URL(database.url);
    withPassword.password = 'hunter2';
    runner = await startFunction('runner/local.ts', {
      DATABASE_URL: withPassword.href, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix,
      INGEST_API_KEYS: INGEST_KEY, READ_API_KEYS: READ_KEY, HOST: '',
    });
  }, 60_000);
  afterAll(async () => {
    await runner?.kill();
    await redis.cleanup();
    await database.drop();
  });

  it('listens on 127.0.0.1 only and says so in one line: address, keys, Redis and PostgreSQL without the password', async () => {
    const port = Number(new URL(runner.url).port);
    expect(await listeningOn(port)).toEqual(['127.0.0.1']);
    const start = lines(runner).filter((l) => l.msg.startsWith('Listening'));
    expect(start).toEqual([expect.objectContaining({
      level: 30, function: 'runner', msg: `Listening on http://127.0.0.1:${port}`, url: `http://127.0.0.1:${port}`,
      ingest_key: 'required', read_key: 'required', redis: TEST_REDIS_URL, postgres: database.url.replace('postgres@', 'postgres:***@'),
    })]);
    expect(runner.output()).not.toContain('hunter2');
  });

  it('names the function that wrote each line, logs each refused request without its input, and labels metrics by function', async () => {
    const send = (key: string, body: unknown) => fetch(`${runner.url}/publish`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body),
    });
    expect((await send(INGEST_KEY, [event({ event_id: 's1' }), event({ event_id: 's2' })])).status).toBe(202);
    expect((await send('wrong-key', event({ event_id: 'secret-event-id' }))).status).toBe(401);
    expect((await fetch(`${runner.url}/stats`)).status).toBe(401);
    expect((await fetch(`${runner.url}/no-such-route?secret-query=1`)).status).toBe(404);
    const read = { headers: { authorization: `Bearer ${READ_KEY}` } };
    await waitFor(async () => ((await (await fetch(`${runner.url}/stats`, read)).json()) as { unique_processed: number }).unique_processed === 2, { what: 'both events stored' });
    // The storage thread logs after its commit, and its lines reach the output on their own time.
    await waitFor(() => lines(runner).some((l) => l.msg === 'Saved to DB'), { what: 'the Saved to DB line' });

    const all = lines(runner);
    const by = (msg: string) => all.filter((l) => l.msg === msg).map((l) => l.function);
    expect(new Set(by('Enqueued event'))).toEqual(new Set(['ingest']));
    expect(new Set(by('Saved to DB'))).toEqual(new Set(['process']));
    expect(all.map((l) => l.function)).not.toContain('local');
    const refused = all.filter((l) => l.msg === 'Refused request').map(({ function: fn, route, status, code, level }) => ({ fn, route, status, code, level }));
    expect(refused).toEqual([
      { fn: 'ingest', route: '/publish', status: 401, code: 'unauthorized', level: 30 },
      { fn: 'stats', route: '/stats', status: 401, code: 'unauthorized', level: 30 },
      { fn: 'runner', route: 'unmatched', status: 404, code: 'not_found', level: 30 },
    ]);
    expect(runner.output()).not.toContain('secret-');

    const metrics = await (await fetch(`${runner.url}/metrics`, read)).text();
    const count = (labels: string) => Number(new RegExp(`^aggregator_http_request_duration_seconds_count\\{${labels}\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
    expect(count('function="ingest",route="/publish",status="202"')).toBe(1);
    expect(count('function="ingest",route="/publish",status="401"')).toBe(1);
    expect(count('function="stats",route="/stats",status="401"')).toBe(1);
    expect(count('function="runner",route="/\\*",status="404"')).toBe(1);
    // The storage thread's counters are the runner's: both events were stored there.
    expect(metrics).toMatch(/^aggregator_events_unique_total 2$/m);
    expect(metrics).toMatch(/^process_start_time_seconds \d+$/m);
    // The refused publish is a rejected event; the 401 on /stats is not.
    expect(metrics).toMatch(/^aggregator_events_rejected_total\{reason="unauthorized"\} 1$/m);
  });
});

it('warns when routes are open on an address other than loopback', async () => {
  const database = await createTestDatabase('start_open', { migrate: false });
  const redis = testRedis('start-open');
  const runner = await startFunction('runner/local.ts', { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix, HOST: '0.0.0.0', READ_API_KEYS: READ_KEY });
  try {
    const start = lines(runner).filter((l) => l.msg.startsWith('Listening'));
    expect(start).toEqual([expect.objectContaining({
      level: 40, url: `http://0.0.0.0:${new URL(runner.url).port}`, ingest_key: 'open', read_key: 'required',
      msg: expect.stringContaining('with routes open to the network: set INGEST_API_KEYS'),
    })]);
  } finally {
    await runner.kill();
    await redis.cleanup();
    await database.drop();
  }
});

describe('settings that stop the start', () => {
  let dataDir: string;
  let nothingThere: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'agg-start-'));
    nothingThere = `127.0.0.1:${await freePort()}`;
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  /** Runs `npm start`'s entry to its end; with no PostgreSQL or Redis given or found, zero-setup would start both. */
  const startToEnd = (env: Record<string, string>, options: { tty?: boolean } = {}) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const full = {
        ...process.env, DATABASE_URL: '', REDIS_URL: '', DATA_DIR: join(dataDir, 'data'), PORT: '0',
        ZERO_SETUP_PROBE_PG: nothingThere, ZERO_SETUP_PROBE_REDIS: nothingThere, LOG_LEVEL: 'info', ...env,
      };
      const command = [process.execPath, '--import', 'tsx', 'runner/local.ts'];
      // `script` gives the runner a terminal, as a person at a shell does.
      const child = options.tty
        ? spawn('script', ['-qefc', command.join(' '), '/dev/null'], { cwd: ROOT, env: full, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(command[0] as string, command.slice(1), { cwd: ROOT, env: full, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      child.once('exit', (code) => resolve({ code, output }));
    });
  const nothingStarted = () => access(join(dataDir, 'data')).then(() => false, () => true);

  it.each([
    [{ WORKERS: '0' }, 'invalid configuration: WORKERS: must be at least 1'],
    [{ INGEST_API_KEYS: 'k', INGEST_API_KEYS_FILE: '/dev/null' }, 'INGEST_API_KEYS and INGEST_API_KEYS_FILE are both set: set one'],
    [{ READ_API_KEYS: 'k', READ_API_KEYS_FILE: '/dev/null' }, 'READ_API_KEYS and READ_API_KEYS_FILE are both set: set one'],
  ])('%j: one line naming it, exit 1, and no server started', async (env, message) => {
    const run = await startToEnd(env);
    expect(run).toEqual({ code: 1, output: `${message}\n` });
    expect(await nothingStarted()).toBe(true);
  });

  it('a DATABASE_URL naming a database that does not exist: a message naming it and exit 1, no retrying', async () => {
    const missing = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
    missing.pathname = '/agg_no_such_database';
    const run = await startToEnd({ DATABASE_URL: missing.href, REDIS_URL: TEST_REDIS_URL });
    expect(run.code).toBe(1);
    const fatal = run.output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line).filter((l) => l.level === 60);
    expect(fatal.map((l) => l.msg)).toEqual([expect.stringContaining('the database "agg_no_such_database" of DATABASE_URL does not exist')]);
    expect(run.output).not.toContain('Waiting for PostgreSQL');
    expect(run.output).not.toContain('Listening');
  });

  it('in a terminal, prints readable lines instead of JSON', async () => {
    const missing = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
    missing.pathname = '/agg_no_such_database';
    const run = await startToEnd({ DATABASE_URL: missing.href, REDIS_URL: TEST_REDIS_URL }, { tty: true });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/FATAL.*runner: .*the database "agg_no_such_database" of DATABASE_URL does not exist/);
    expect(run.output).not.toContain('{"level"');
  });
});
