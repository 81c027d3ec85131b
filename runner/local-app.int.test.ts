import { Hono } from 'hono';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createIngestApp } from '../functions/ingest/app.ts';
import { createStatsApp } from '../functions/stats/app.ts';
import { createLogger } from '../shared/log/logger.ts';
import { createMetrics, forFunction } from '../shared/metrics/metrics.ts';
import { describeRoute } from '../shared/openapi/route-doc.ts';
import { documentedRoutes, responseProblems } from '../test/support/openapi/conformance.ts';
import type { OpenApiDocument } from '../shared/openapi/document.ts';
import { parkLetter } from '../test/support/dead-letters.ts';
import { createHarness, event, type Harness } from '../dev/harness.ts';
import { createLocalApp } from './local-app.ts';

let h: Harness;
let app: ReturnType<typeof createLocalApp>;
let document: OpenApiDocument;
beforeAll(async () => {
  h = await createHarness('local-app');
  app = createLocalApp({ ingest: h.ingest, process: h.process, stats: h.stats });
  document = (await (await app.request('/openapi.json')).json()) as OpenApiDocument;
});
afterAll(() => h.cleanup());

// Hono writes a path parameter `:id`, OpenAPI `{id}`.
const routesOf = (a: { routes: Array<{ method: string; path: string }> }) =>
  a.routes.filter((r) => r.method !== 'ALL').map((r) => ({ method: r.method.toLowerCase(), path: r.path.replace(/:(\w+)/g, '{$1}') }));

it('documents every route npm start serves, and no other', () => {
  // The app is flat: its own routes are every path it answers (each function's under its prefix, each alias at the root).
  const served = new Set(routesOf(app).map((r) => `${r.method} ${r.path}`));
  const functions = { ingest: h.ingest, process: h.process, stats: h.stats };
  for (const [name, fn] of Object.entries(functions)) {
    for (const r of routesOf(fn)) expect(served, `${name}: ${r.method} ${r.path}`).toContain(`${r.method} /function/${name}${r.path === '/' ? '' : r.path}`);
  }
  expect(documentedRoutes(document).sort()).toEqual([...served].sort());
});

it('answers every documented route as documented', async () => {
  const problems: string[] = [];
  for (const route of documentedRoutes(document)) {
    const [method, path] = route.split(' ') as ['get' | 'post', string];
    // A route of one dead letter gets a letter of its own (replay and drop each take one away).
    const url = path.includes('{id}') ? path.replace('{id}', (await parkLetter(h.queue, [event({ event_id: path })])).id) : path;
    const init: RequestInit = method === 'post'
      ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event({ event_id: path })) }
      : {};
    const response = await app.request(url, init);
    if (response.status >= 300) problems.push(`${route}: ${response.status}`);
    problems.push(...(await responseProblems(document, method, path, response)));
  }
  expect(problems).toEqual([]);
});

it('serves the dashboard at the root and under the stats function', async () => {
  for (const path of ['/dashboard', '/function/stats/dashboard']) {
    const response = await app.request(path);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(await response.text()).toContain('<title>Event aggregator · dashboard</title>');
  }
});

it('counts each request once, under the function that answered it or under the runner', async () => {
  const metrics = createMetrics('runner');
  const as = (name: string) => ({ ...h, metrics: forFunction(metrics, name) });
  const counted = createLocalApp({ ingest: createIngestApp(as('ingest')), process: h.process, stats: createStatsApp(as('stats')) }, metrics);
  const post = (path: string) => counted.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event({ event_id: `count ${path}` })) });
  expect((await post('/publish')).status).toBe(202);
  expect((await post('/function/ingest')).status).toBe(202);
  expect((await counted.request('/stats')).status).toBe(200);
  expect((await counted.request('/function/ingest/nope')).status).toBe(404);
  expect((await counted.request('/nope')).status).toBe(404);
  expect((await counted.request('/openapi.json')).status).toBe(200);

  const counts = (await metrics.requestDuration.get()).values
    .filter((v) => v.metricName === 'aggregator_http_request_duration_seconds_count')
    .map((v) => `${v.labels.function} ${v.labels.route} ${v.labels.status} ${v.value}`);
  expect(counts.sort()).toEqual([
    'ingest /* 404 1',
    'ingest /function/ingest 202 1',
    'ingest /publish 202 1',
    'runner /* 404 1',
    'runner /openapi.json 200 1',
    'stats /stats 200 1',
  ]);
});

it("hands an error to the error handler of the function that owns the path, at every path it answers, as when it runs alone", async () => {
  const metrics = createMetrics('runner');
  const as = (name: string) => ({ ...h, metrics: forFunction(metrics, name) });
  const counted = createLocalApp({ ingest: createIngestApp(as('ingest')), process: h.process, stats: createStatsApp(as('stats')) }, metrics);
  for (const path of ['/publish', '/publish/', '/function/ingest', '/function/ingest/publish']) {
    const response = await counted.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"topic":' });
    expect(response.status, path).toBe(400);
    expect(await response.json(), path).toMatchObject({ error: 'invalid_json' });
  }
  // Only ingest's own handler counts a refused publish; the request is timed with the status it got.
  const rejected = (await metrics.eventsRejected.get()).values.map((v) => `${v.labels.reason} ${v.value}`);
  expect(rejected).toEqual(['invalid_json 4']);
  const timed = (await metrics.requestDuration.get()).values
    .filter((v) => v.metricName === 'aggregator_http_request_duration_seconds_count')
    .map((v) => `${v.labels.function} ${v.labels.route} ${v.labels.status} ${v.value}`);
  expect(timed.sort()).toEqual(['ingest /function/ingest 400 1', 'ingest /function/ingest/publish 400 1', 'ingest /publish 400 2']);
});

it('times each request in seconds', async () => {
  const metrics = createMetrics('runner');
  // No poller runs here: a publish that waits is answered 202 once WAIT_TIMEOUT_MS has passed.
  const ingest = createIngestApp({ ...h, config: { ...h.config, waitTimeoutMs: 300 }, metrics: forFunction(metrics, 'ingest') });
  const timed = createLocalApp({ ingest, process: h.process, stats: h.stats }, metrics);
  const response = await timed.request('/publish?wait=true', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event({ event_id: 'timed' })) });
  expect(response.status).toBe(202);
  const sum = (await metrics.requestDuration.get()).values.find((v) => v.metricName === 'aggregator_http_request_duration_seconds_sum')!.value;
  expect(sum).toBeGreaterThanOrEqual(0.3);
  expect(sum).toBeLessThan(30);
});

it("hands the stats function's errors to its own handler too, at its aliases and under /function/stats", async () => {
  const lines: Array<{ function?: string; msg?: string; status?: number }> = [];
  const logger = createLogger('stats', 'info', { write: (line: string) => void lines.push(JSON.parse(line) as never) });
  const local = createLocalApp({ ingest: h.ingest, process: h.process, stats: createStatsApp({ ...h, logger }) });
  for (const path of ['/events?bogus=1', '/function/stats/events?bogus=1']) {
    const response = await local.request(path);
    expect(response.status, path).toBe(400);
  }
  // Only the stats function's handler writes its refusals, under its name.
  expect(lines.filter((l) => l.msg === 'Refused request').map((l) => `${l.function} ${l.status}`)).toEqual(['stats 400', 'stats 400']);
});

it('answers once, with a plain 500, when a function error handler itself fails', async () => {
  let calls = 0;
  const broken = new Hono()
    .use(async (_c, next) => { await next(); })
    .post('/publish', describeRoute({ summary: 'fails', responses: {} }), () => { throw new Error('the route failed'); })
    .onError(() => {
      calls++;
      throw new Error('and so did its error handler');
    });
  const local = createLocalApp({ ingest: broken, process: h.process, stats: h.stats });
  // Hono's own last resort writes the failure to stderr.
  const stderr = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const response = await local.request('/publish', { method: 'POST' });
    expect(response.status).toBe(500);
    expect(calls).toBe(1);
    expect(stderr).toHaveBeenCalledTimes(1);
  } finally {
    stderr.mockRestore();
  }
});
