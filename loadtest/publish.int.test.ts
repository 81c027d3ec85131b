import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFunction, type FunctionProcess } from '../dev/processes.ts';
import { createTestDatabase, testRedis, TEST_REDIS_URL, type TestDatabase } from '../dev/services.ts';

const run = promisify(execFile);

type Report = {
  sent: number;
  backpressure: number;
  run_id: string;
  expected: { sent: number; unique: number; duplicates: number; topics: Record<string, { unique: number; duplicates: number }> };
  after: Record<string, unknown> & { topics: Array<{ topic: string; unique_processed: number; duplicate_dropped: number }> };
  match: boolean;
};

/** `npm run publish -- ...`, as a process; resolves with its exit code and output. */
async function publish(args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'loadtest/publish.ts', ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run publish, against the local runner', () => {
  let database: TestDatabase;
  const redis = testRedis('publish');
  let runner: FunctionProcess;

  beforeAll(async () => {
    database = await createTestDatabase('publish');
    // A short queue limit, so that 16 requests in flight meet backpressure.
    runner = await startFunction('runner/local.ts', {
      DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix, MAX_QUEUE_LENGTH: '400', MAX_EVENTS_PER_REQUEST: '500',
      LOG_LEVEL: 'warn',
    });
  });

  afterAll(async () => {
    await runner?.stop();
    await Promise.all([redis.cleanup(), database?.drop()]);
  });

  const stats = async () => (await (await fetch(`${runner.url}/stats`)).json()) as Record<string, unknown>;

  it('sends 2,000 events through backpressure and reports exactly what /stats says', async () => {
    const result = await publish(['--events', '2000', '--duplicates', '0.3', '--batch', '100', '--concurrency', '16', '--url', runner.url, '--check', '--json', '--run-id', 'first']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.sent).toBe(2000);
    expect(report.backpressure).toBeGreaterThan(0);
    expect(report.expected).toMatchObject({ sent: 2000, unique: 1400, duplicates: 600 });
    expect(report.match).toBe(true);

    const now = await stats();
    const { uptime_seconds: _a, ...reported } = report.after;
    const { uptime_seconds: _b, ...current } = now;
    expect(reported).toEqual(current);
    expect(current).toMatchObject({ received: 2000, unique_processed: 1400, duplicate_dropped: 600, pending: 0, dead_lettered: 0 });
    for (const t of report.after.topics) {
      expect({ unique: t.unique_processed, duplicates: t.duplicate_dropped }).toEqual(report.expected.topics[t.topic]);
    }
    expect(result.stderr).toMatch(/2,000\/2,000 events/);
  });

  it('exits 1 under --check when /stats does not match: the same run again is all duplicates', async () => {
    const result = await publish(['--events', '2000', '--duplicates', '0.3', '--concurrency', '4', '--url', `${runner.url}/publish`, '--check', '--run-id', 'first']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/unique_processed\s+1400\s+0\s+MISMATCH/);
    expect(result.stdout).toContain('does NOT match');
    expect(await stats()).toMatchObject({ received: 4000, unique_processed: 1400, duplicate_dropped: 2600 });
  });

  it('stops with a clear message when the service refuses a batch for good', async () => {
    const result = await publish(['--events', '1200', '--batch', '600', '--concurrency', '1', '--url', runner.url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/publish stopped: 600 events refused after 1 attempt: 413 too_large: the request holds 600 events/);
    expect(await stats()).toMatchObject({ received: 4000 });
  });

  it('fails clearly when /stats cannot be read', async () => {
    const result = await publish(['--events', '10', '--url', runner.url, '--stats-url', `${runner.url}/nowhere`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/publish failed: GET .*\/nowhere answered 404/);
  });

  it('prints usage for a bad command line', async () => {
    const result = await publish(['--batch', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--batch must be a whole number from 1 to 1000');
    expect(result.stderr).toContain('npm run publish -- [options]');
  });
});
