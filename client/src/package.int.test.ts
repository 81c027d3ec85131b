import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../../test/support/browser.ts';
import { scriptedServer } from '../../test/support/scripted-server.ts';
import { startFunction } from '../../dev/processes.ts';
import { createTestDatabase, testRedis, TEST_REDIS_URL } from '../../dev/services.ts';
import { waitFor } from '../../dev/wait.ts';

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

// The build that `npm install` runs (the workspace's prepare script), so the tests see this source.
beforeAll(() => run('npm', ['run', 'build', '--workspace', '@event-aggregator/client'], { cwd: ROOT, timeout: 120_000 }), 150_000);

describe('the built package', () => {
  let server: Awaited<ReturnType<typeof scriptedServer>>;

  beforeAll(async () => {
    server = await scriptedServer(() => ({ status: 202 }));
  });

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

// The browser build: the same files, loaded by a real Chromium as ES modules with an import map for the two
// dependencies. Served from the origin that forwards /publish to the runner, since ingest sends no CORS headers.
const PAGE = `<!doctype html><script type="importmap">${JSON.stringify({
  imports: { valibot: '/node_modules/valibot/dist/index.mjs', uuid: '/node_modules/uuid/dist/index.js' },
})}</script>
<script type="module">
  import { createPublisher } from '/client/dist/client/src/index.js';
  window.publishFromPage = async (n) => {
    const publisher = createPublisher({ url: location.origin, maxBatchEvents: 100 });
    const ids = [];
    for (let i = 0; i < n; i++) ids.push((await publisher.publish({ topic: 'browser', source: 'chromium', payload: { i, note: 'from a page' } })).event_id);
    const refused = await publisher.publish({ topic: 'browser', source: 'chromium', payload: { s: 'a\\u0000b' } }).catch((e) => e.toJSON());
    await publisher.close();
    return { ids, refused, stats: publisher.stats() };
  };
</script>`;
const SERVED = ['/client/dist/', '/node_modules/valibot/dist/', '/node_modules/uuid/dist/'];
declare const window: { publishFromPage?: (n: number) => Promise<{ ids: string[]; refused: unknown; stats: Record<string, number> }> };

const bodyOf = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/** The page, the package's files, and /publish forwarded to `target` as it came (gzip included). */
async function pageServer(target: string) {
  const encodings: Array<string | undefined> = [];
  const server = createServer(async (req, res) => {
    const path = normalize(new URL(req.url ?? '/', 'http://x').pathname);
    if (req.method === 'POST' && path === '/publish') {
      const encoding = req.headers['content-encoding'];
      encodings.push(encoding);
      const answer = await fetch(`${target}/publish`, {
        method: 'POST', body: await bodyOf(req),
        headers: { 'content-type': String(req.headers['content-type']), ...(encoding ? { 'content-encoding': encoding } : {}) },
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
    } else if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    } else if (SERVED.some((prefix) => path.startsWith(prefix))) {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(await readFile(join(ROOT, path)));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, encodings, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('the built package in a browser', () => {
  it('publishes from Chromium with fetch and CompressionStream, every event stored', async () => {
    const [database, redis] = [await createTestDatabase('client_browser'), testRedis('client-browser')];
    const runner = await startFunction('runner/local.ts', { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix, LOG_LEVEL: 'warn' });
    const site = await pageServer(runner.url);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(site.url);
      await page.waitForFunction(() => window.publishFromPage !== undefined);
      const result = await page.evaluate((n) => window.publishFromPage!(n), 300);

      expect(pageErrors).toEqual([]);
      expect(result.stats).toMatchObject({ published: 300, sent: 300, refused: 0, requests: 3 });
      expect(new Set(result.ids).size).toBe(300);
      expect(result.refused).toMatchObject({ error: 'validation_failed', details: [{ index: 0, path: 'payload.s' }] });
      expect(site.encodings).toEqual(['gzip', 'gzip', 'gzip']);
      const stats = await waitFor(async () => {
        const s = (await (await fetch(`${runner.url}/stats`)).json()) as { pending: number; received: number; unique_processed: number };
        return s.pending === 0 && s.received === 300 ? s : null;
      }, { what: 'the events to be stored' });
      expect(stats.unique_processed).toBe(300);
    } finally {
      await browser.close();
      await site.close();
      await runner.kill();
      await Promise.all([redis.cleanup(), database.drop()]);
    }
  }, 120_000);
});
