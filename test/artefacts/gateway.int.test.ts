import { gzipSync } from 'node:zlib';
import { serve, type ServerType } from '@hono/node-server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstream } from '../../infra/upstream.ts';
import { createGatewayApp } from '../../shared/gateway/gateway.ts';
import { createHarness, event, type Harness } from '../../dev/harness.ts';
import { freePort } from '../../dev/processes.ts';
import { waitFor } from '../../dev/wait.ts';

/** Serves an app on a free port, as its container would. */
async function listen(app: { fetch: (request: Request) => Response | Promise<Response> }) {
  const port = await freePort();
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

// The compose gateway (infra/gateway.ts): shared/gateway/gateway.ts routes, each function behind real HTTP.
describe('the compose gateway', () => {
  let h: Harness;
  let gateway: Awaited<ReturnType<typeof listen>>;
  const servers: Array<Awaited<ReturnType<typeof listen>>> = [];
  let stopPoller: () => Promise<void>;

  beforeAll(async () => {
    h = await createHarness('gateway');
    const [ingest, processFn, stats] = await Promise.all([listen(h.ingest), listen(h.process), listen(h.stats)]);
    servers.push(ingest, processFn, stats);
    const logger = pino({ level: 'silent' });
    gateway = await listen(
      createGatewayApp({
        ingest: upstream('ingest', ingest.url, logger),
        process: upstream('process', processFn.url, logger),
        stats: upstream('stats', stats.url, logger),
      }),
    );
    stopPoller = h.startPoller(1).stop;
  });

  afterAll(async () => {
    await stopPoller?.();
    await Promise.all([gateway?.close(), ...servers.map((s) => s.close())]);
    await h?.cleanup();
  });

  const send = (path: string, init?: RequestInit) => fetch(`${gateway.url}${path}`, init);
  const json = { 'content-type': 'application/json' };

  it('reaches ingest at /publish and /function/ingest, gzip bodies too', async () => {
    const plain = await send('/publish', { method: 'POST', headers: json, body: JSON.stringify([event({ event_id: 'g1' }), event({ event_id: 'g2' })]) });
    expect(plain.status).toBe(202);
    expect(await plain.json()).toMatchObject({ accepted: 2 });
    const zipped = await send('/function/ingest', {
      method: 'POST',
      headers: { ...json, 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ events: [event({ event_id: 'g1' })] })),
    });
    expect(zipped.status).toBe(202);
  });

  it('passes the function answers through: errors with their status and body', async () => {
    const invalid = await send('/publish', { method: 'POST', headers: json, body: JSON.stringify([event({ timestamp: 'yesterday' })]) });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: 'validation_failed' });
    const missing = await send('/function/nope');
    expect(missing.status).toBe(404);
  });

  it('processes synchronously at /function/process', async () => {
    const response = await send('/function/process', { method: 'POST', headers: json, body: JSON.stringify([event({ event_id: 'p1' })]) });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ processed: 1, unique: 1, duplicates: 0 });
  });

  it('serves stats, events and the health routes from the stats function, queries kept', async () => {
    const stats = await waitFor(
      async () => {
        const body = (await (await send('/stats')).json()) as { pending: number; received: number };
        return body.pending === 0 && body.received === 4 ? body : null;
      },
      { timeoutMs: 20_000, what: 'the published events to be processed' },
    );
    expect(stats).toMatchObject({ received: 4, unique_processed: 3, duplicate_dropped: 1 });
    expect(await (await send('/function/stats')).json()).toMatchObject({ received: 4 });
    const page = (await (await send('/function/stats/events?limit=2')).json()) as { events: unknown[]; next_cursor: string | null };
    expect(page.events).toHaveLength(2);
    expect(page.next_cursor).not.toBeNull();
    expect(((await (await send(`/events?limit=2&after=${page.next_cursor}`)).json()) as { events: unknown[] }).events).toHaveLength(1);
    for (const path of ['/healthz', '/readyz', '/function/ingest/healthz', '/function/process/readyz']) {
      expect((await send(path)).status, path).toBe(200);
    }
    expect(await (await send('/metrics')).text()).toMatch(/^# HELP/m);
  });

  it('answers 503 with Retry-After, naming the function, when a function is down', async () => {
    await servers[2]!.close();
    const response = await send('/stats');
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ error: 'unavailable', dependency: 'stats' });
  });
});
