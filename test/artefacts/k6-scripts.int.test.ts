import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { createTestDatabase, testRedis, TEST_REDIS_URL, type TestDatabase } from '../../dev/services.ts';
import { waitFor } from '../../dev/wait.ts';
import { ROOT } from './support/artefacts.ts';
import type { K6Run } from './k6/k6-runtime.ts';

const run = promisify(execFile);

/** Runs a k6 script's lifecycle once in the k6 stand-in (a child process: vm modules need a flag). */
async function runScript(script: string, env: Record<string, string>): Promise<K6Run & { stderr: string }> {
  const { stdout, stderr } = await run(
    process.execPath,
    ['--experimental-vm-modules', '--no-warnings', '--import', 'tsx', 'test/artefacts/k6/run-script.ts', join(ROOT, script), JSON.stringify(env)],
    { cwd: ROOT, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return { ...(JSON.parse(stdout) as K6Run), stderr };
}

type Stats = { received: number; unique_processed: number; duplicate_dropped: number; pending: number };

describe('the k6 scripts, run once against the local runner', () => {
  let database: TestDatabase;
  const redis = testRedis('k6');
  let runner: FunctionProcess;

  beforeAll(async () => {
    database = await createTestDatabase('k6');
    runner = await startFunction('runner/local.ts', { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix, LOG_LEVEL: 'warn' });
  });

  afterAll(async () => {
    await runner?.stop();
    await Promise.all([redis.cleanup(), database?.drop()]);
  });

  const stats = async () => (await (await fetch(`${runner.url}/stats`)).json()) as Stats;

  it('burst.js sends every batch of the plan, then finds /stats exact', async () => {
    const before = await stats();
    const k6 = await runScript('loadtest/burst.js', { BASE_URL: runner.url, EVENTS: '450', BATCH: '100', VUS: '4' });

    expect(k6.options.scenarios.burst).toMatchObject({ executor: 'shared-iterations', vus: 4, iterations: 5 });
    const publishes = k6.requests.filter((r) => r.tags.name === 'publish');
    expect(publishes.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    expect(publishes.every((r) => r.url === `${runner.url}/publish` && r.method === 'POST')).toBe(true);
    expect(k6.counters.events_sent).toBe(450);

    const after = await stats();
    expect(after.received - before.received).toBe(450);
    expect(after.unique_processed - before.unique_processed).toBe(315);
    expect(after.duplicate_dropped - before.duplicate_dropped).toBe(135);
    expect(k6.checks.filter((c) => c.tags.check === 'stats')).toEqual([{ name: 'stats match what was sent', ok: true, tags: { check: 'stats' } }]);
    expect(k6.thresholds).toEqual({
      http_req_failed: true,
      'http_req_duration{name:publish}': true,
      events_abandoned: true,
      'checks{check:stats}': true,
    });
    expect(k6.summary.stdout).toContain('burst: sent 450 of 450 events');
    expect(k6.summary.stdout).toContain('315 unique, 135 duplicates');
    expect(k6.summary.stdout).toContain('/stats check: passed');
    expect(k6.stderr).toContain('/stats matches what was sent');
  });

  it('burst.js defaults to the seed scenario: 20,000 events, 30% duplicates', async () => {
    const before = await stats();
    const k6 = await runScript('loadtest/burst.js', { BASE_URL: runner.url, STATS_CHECK: 'off', BATCH: '1000', VUS: '4', EVENTS: '' });
    // EVENTS='' counts as unset, as compose writes a blank default.
    expect(k6.options.scenarios.burst.iterations).toBe(20);
    expect(k6.summary.stdout).toContain('sent 20000 of 20000 events');
    expect(k6.summary.stdout).toContain('14000 unique, 6000 duplicates');
    expect(k6.thresholds).not.toHaveProperty('checks{check:stats}');
    // With the check off nobody waited: let the queue drain before the next script compares.
    const after = await waitFor(async () => ((s) => (s.pending === 0 ? s : null))(await stats()), { timeoutMs: 60_000, what: 'the burst to drain' });
    expect(after.unique_processed - before.unique_processed).toBe(14000);
  });

  it('soak.js paces RATE x DURATION events and checks /stats', async () => {
    const k6 = await runScript('loadtest/soak.js', { BASE_URL: runner.url, RATE: '2000', DURATION: '1s', BATCH: '500', VUS: '2', DUPLICATES: '0.5' });
    expect(k6.options.scenarios.soak).toMatchObject({ executor: 'shared-iterations', iterations: 4 });
    expect(k6.counters.events_sent).toBe(2000);
    expect(k6.summary.stdout).toContain('1000 unique, 1000 duplicates');
    expect(k6.checks.find((c) => c.tags.check === 'stats')?.ok).toBe(true);
  });

  it('rejects settings that make no sense, naming them', async () => {
    await expect(runScript('loadtest/burst.js', { BASE_URL: runner.url, BATCH: '5000' })).rejects.toThrow(/BATCH must be a whole number from 1 to 1000/);
  });
});

describe('spike.js against a server that answers the surge with 429', () => {
  let server: Server;
  let url: string;
  const seen: Array<{ at: number; body: string; status: number }> = [];

  beforeAll(async () => {
    // The first publish is refused with Retry-After: 1; every later one is accepted.
    server = createServer((request: IncomingMessage, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const status = request.method === 'POST' ? (seen.length === 0 ? 429 : 202) : 404;
        seen.push({ at: Date.now(), body, status });
        response.writeHead(status, { 'content-type': 'application/json', ...(status === 429 ? { 'retry-after': '1' } : {}) });
        response.end(JSON.stringify(status === 429 ? { error: 'backpressure' } : { accepted: 1 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('waits as Retry-After says, sends the same batch again, and loses nothing', async () => {
    const k6 = await runScript('loadtest/spike.js', {
      BASE_URL: url, STATS_CHECK: 'off', BASELINE_EVENTS: '250', SURGE_EVENTS: '300', BATCH: '100', RATE: '100000',
    });
    expect(k6.options.scenarios.baseline).toMatchObject({ exec: 'baseline', iterations: 3 });
    expect(k6.options.scenarios.surge).toMatchObject({ exec: 'surge', iterations: 3, startTime: '10s' });
    const [refused, retried] = seen;
    expect(refused!.status).toBe(429);
    expect(retried!.body).toBe(refused!.body);
    expect(retried!.at - refused!.at).toBeGreaterThanOrEqual(1000);
    // Six batches, 550 events, each position exactly once (the baseline's last batch is 50).
    const accepted = seen.filter((s) => s.status === 202).map((s) => JSON.parse(s.body) as Array<{ event_id: string; payload: { key: number } }>);
    expect(accepted.map((batch) => batch.length)).toEqual([100, 100, 50, 100, 100, 100]);
    expect(k6.counters.events_sent).toBe(550);
    expect(k6.counters.backpressure_answers).toBe(1);
    // A 429 is expected (waited out), not a failed request.
    expect(k6.thresholds).toMatchObject({ http_req_failed: true, events_abandoned: true });
    expect(k6.summary.stdout).toContain('429 answers waited out: 1');
  });
});
