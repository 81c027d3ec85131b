import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, event, type Harness } from '../dev/harness.ts';
import { waitFor } from '../dev/wait.ts';
import { createGatewayApp } from '../shared/gateway/gateway.ts';
import { createLocalApp } from './local-app.ts';

// The same routes two ways: the gateway forwards to each function (compose, infra/gateway.ts), and
// npm start's app has every function's routes in one app.
const apps = {
  gateway: (h: Harness) => createGatewayApp({ ingest: h.ingest, process: h.process, stats: h.stats }),
  'npm start': (h: Harness) => createLocalApp({ ingest: h.ingest, process: h.process, stats: h.stats }),
};

describe.each(Object.entries(apps))('one port for the three functions: %s', (label, build) => {
  let h: Harness;
  let gateway: { request: (path: string, init?: RequestInit) => Response | Promise<Response> };
  let poller: ReturnType<Harness['startPoller']>;
  beforeAll(async () => {
    h = await createHarness(label === 'gateway' ? 'gateway' : 'gateway-flat');
    gateway = build(h);
    poller = h.startPoller(1);
  });
  afterAll(async () => {
    await poller.stop();
    await h.cleanup();
  });

  const post = (path: string, body: unknown) =>
    gateway.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it.each(['/function/ingest', '/function/ingest/', '/function/ingest/publish', '/publish'])('accepts events at POST %s', async (path) => {
    const response = await post(path, event({ event_id: `via ${path}` }));
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ accepted: 1, batch_id: expect.any(String) });
  });

  it('processes synchronously at POST /function/process', async () => {
    const response = await post('/function/process', [event({ event_id: 'sync-1' }), event({ event_id: 'sync-1' })]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ processed: 2, unique: 1, duplicates: 1, dead_lettered: 0 });
  });

  it.each(['/function/stats', '/function/stats/stats', '/stats'])('answers the counters at GET %s', async (path) => {
    const body = await waitFor(async () => {
      const s = (await (await gateway.request(path)).json()) as { pending: number; unique_processed: number };
      return s.pending === 0 && s.unique_processed === 5 ? s : null;
    }, { what: 'the published events processed' });
    expect(body).toMatchObject({ received: 6, unique_processed: 5, duplicate_dropped: 1, dead_lettered: 0 });
  });

  it.each(['/function/stats/events', '/events'])('lists events at GET %s', async (path) => {
    const response = await gateway.request(`${path}?limit=2`);
    const body = (await response.json()) as { events: unknown[]; next_cursor: string | null };
    expect(body.events).toHaveLength(2);
    expect(body.next_cursor).toEqual(expect.any(String));
  });

  it.each(['/healthz', '/readyz', '/function/ingest/healthz', '/function/process/readyz', '/function/stats/healthz'])('answers GET %s', async (path) => {
    expect((await gateway.request(path)).status).toBe(200);
  });

  it('serves Prometheus metrics', async () => {
    const response = await gateway.request('/metrics');
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toContain('aggregator_events_accepted_total');
  });

  it('answers 404 in the contract’s shape for an unknown path', async () => {
    const response = await gateway.request('/function/nope');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'not_found' });
  });
});
