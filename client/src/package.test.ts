import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptedServer } from '../../test/support/scripted-server.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// What a user of the package runs: plain Node, no TypeScript loader, importing
// the package by name from the repository root, as `npm install` links it.
const USER_SCRIPT = `
import { createPublisher, InvalidEventError } from '@event-aggregator/client';
const publisher = createPublisher({ url: process.env.URL, flushIntervalMs: 60000 });
const event = await publisher.publish({ topic: 'orders', source: 'plain-node', payload: { ok: true } });
const refused = await publisher.publish({ topic: 'orders', source: 'plain-node', payload: [] }).catch((e) => e);
await publisher.close();
console.log(JSON.stringify({ event, refused: refused instanceof InvalidEventError ? refused.toJSON() : String(refused) }));
`;

describe('the built package', () => {
  let server: Awaited<ReturnType<typeof scriptedServer>>;

  beforeAll(async () => {
    server = await scriptedServer(() => ({ status: 202 }));
    // The build that `npm install` runs (the workspace's prepare script), so the test sees this source.
    await run('npm', ['run', 'build', '--workspace', '@event-aggregator/client'], { cwd: ROOT, timeout: 120_000 });
  }, 150_000);

  afterAll(() => server?.close());

  it('runs on plain Node from the repository root, and a closed publisher lets the process exit', async () => {
    const started = Date.now();
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', USER_SCRIPT], { cwd: ROOT, env: { ...process.env, URL: server.url }, timeout: 30_000 });
    // Well before the 60 s flush interval: close sent the batch and stopped the timer.
    expect(Date.now() - started).toBeLessThan(30_000);
    const { event, refused } = JSON.parse(stdout) as { event: { event_id: string }; refused: unknown };
    expect(server.received.map((r) => r.body)).toEqual([[event]]);
    expect(refused).toEqual({
      error: 'validation_failed',
      message: 'an event breaks a rule',
      details: [{ index: 0, path: 'payload', message: 'payload must be a JSON object' }],
    });
  });

  it('ships its types: a TypeScript user without Node types typechecks against them', async () => {
    const { stdout } = await run('node_modules/.bin/tsc', ['-p', 'client/test-types/tsconfig.json'], { cwd: ROOT, timeout: 120_000 }).catch((e: { stdout: string }) => e);
    expect(stdout).toBe('');
  });
});
