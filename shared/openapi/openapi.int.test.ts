import { gzipSync } from 'node:zlib';
import type { RouterRoute } from 'hono/types';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestApp } from '../../functions/ingest/app.ts';
import { createProcessApp } from '../../functions/process/app.ts';
import { createBatchProcessor } from '../../functions/process/batch-processor.ts';
import { createStatsApp } from '../../functions/stats/app.ts';
import { deadLettersQuery, eventsQuery, statsQuery } from '../../functions/stats/query.ts';
import { parkLetter } from '../../test/support/dead-letters.ts';
import { createHarness, event, type Harness } from '../../dev/harness.ts';
import { freePort } from '../../dev/processes.ts';
import { defaultConfig } from '../config/config.ts';
import { createDb } from '../db/database.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { EventQueue } from '../queue/queue.ts';
import { createRedis } from '../queue/redis.ts';
import { readinessOf } from '../runtime/readiness.ts';
import { answerOf, documentedAnswers, documentedRoutes, responseProblems } from '../../test/support/openapi/conformance.ts';
import { functionDocument, type OpenApiDocument } from './document.ts';

// Every documented status and body shape is produced by the real apps (over a real
// Redis and PostgreSQL, or unreachable ones for 503), and every route is documented.

type FunctionName = 'ingest' | 'process' | 'stats';
type App = { request: (path: string, init?: RequestInit) => Response | Promise<Response>; routes: RouterRoute[] };
type Apps = Record<FunctionName, App>;
// `path` as documented; `url` the path requested, when it differs (a path parameter filled in).
type Scenario = { fn: FunctionName; apps: Apps; method: 'get' | 'post'; path: string; url?: string; init?: RequestInit; query?: string };

let open: Harness; // no keys, and a poller (for the 200 of publish?wait=true)
let openPoller: ReturnType<Harness['startPoller']>;
let keyed: Harness; // keys, and a queue that is full after two events
let away: Apps; // Redis and PostgreSQL unreachable
let shortTopics: App; // an ingest app whose topics are at most 5 characters
let parked: { replay: string; drop: string }; // ids of dead letters of `open`
const closeAway: Array<() => Promise<unknown> | void> = [];

beforeAll(async () => {
  open = await createHarness('openapi');
  openPoller = open.startPoller(1);
  keyed = await createHarness('openapi-keys', { INGEST_API_KEYS: 'in-key', READ_API_KEYS: 'read-key', MAX_QUEUE_LENGTH: '2' });
  parked = {
    replay: (await parkLetter(open.queue, [event({ event_id: 'letter-1' })])).id,
    drop: (await parkLetter(open.queue, [event({ event_id: 'letter-2' })])).id,
  };
  const redis = createRedis(`redis://127.0.0.1:${await freePort()}`, 'openapi-away');
  redis.on('error', () => undefined);
  const db = createDb(`postgres://postgres@127.0.0.1:${await freePort()}/none`, 1);
  closeAway.push(() => redis.disconnect(), () => db.destroy());
  const config = defaultConfig();
  const deps = { config, db, queue: new EventQueue(redis, 'openapi-away'), logger: pino({ level: 'silent' }), metrics: createMetrics(), readiness: readinessOf({ redis, db }) };
  const processBatch = createBatchProcessor(deps);
  away = { ingest: createIngestApp(deps), process: createProcessApp({ ...deps, processBatch }), stats: createStatsApp(deps) };
  shortTopics = createIngestApp({ ...deps, config: { ...config, limits: { ...config.limits, maxTopicLength: 5 } } });
});
afterAll(async () => {
  for (const close of closeAway) await close();
  await openPoller?.stop();
  await open?.cleanup();
  await keyed?.cleanup();
});

const appsOf = (h: Harness): Apps => ({ ingest: h.ingest, process: h.process, stats: h.stats });
const jsonBody = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

/** Requests that make each documented answer happen; `apps` says which deployment answers. */
function scenarios(): Scenario[] {
  const list: Scenario[] = [];
  // A body is read once: each scenario gets a fresh one.
  const badBodies = (): RequestInit[] => [
    jsonBody('{'),
    jsonBody(event({ timestamp: 'yesterday' })),
    jsonBody([]),
    jsonBody('not gzip', { 'content-encoding': 'gzip' }),
    jsonBody(Array.from({ length: 1001 }, (_, i) => event({ event_id: `big-${i}` }))),
    { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' },
    {
      // A client that goes away halfway through its body.
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({ start: (c) => { c.enqueue(new TextEncoder().encode('[{"topic":')); c.error(new Error('client gone')); } }),
      duplex: 'half',
    } as RequestInit,
  ];
  for (const path of ['/', '/publish']) {
    const post = (apps: Apps, init: RequestInit): Scenario => ({ fn: 'ingest', apps, method: 'post', path, init });
    list.push(
      post(appsOf(open), jsonBody(event({ event_id: `ingest${path}` }))),
      { ...post(appsOf(open), jsonBody(event({ event_id: `wait${path}` }))), query: '?wait=true' },
      { ...post(appsOf(open), jsonBody(event())), query: '?wait=maybe' },
      post(appsOf(open), { method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' }, body: gzipSync(`${JSON.stringify(event())}\n`) }),
      ...badBodies().map((init) => post(appsOf(open), init)),
      post(appsOf(keyed), jsonBody(event())),
      post(appsOf(keyed), jsonBody([event({ event_id: 'a' }), event({ event_id: 'b' }), event({ event_id: 'c' })], { authorization: 'Bearer in-key' })),
      post(away, jsonBody(event())),
    );
  }
  const process = (apps: Apps, init: RequestInit): Scenario => ({ fn: 'process', apps, method: 'post', path: '/', init });
  list.push(
    process(appsOf(open), jsonBody([event({ event_id: 'p' }), event({ event_id: 'p' })])),
    ...badBodies().map((init) => process(appsOf(open), init)),
    process(appsOf(keyed), jsonBody(event())),
    process(appsOf(keyed), jsonBody([event({ event_id: 'a' }), event({ event_id: 'b' }), event({ event_id: 'c' })], { authorization: 'Bearer in-key' })),
    process(away, jsonBody(event())),
  );

  const read = { headers: { 'x-api-key': 'read-key' } };
  for (const path of ['/', '/stats', '/events', '/status', '/dead-letters']) {
    list.push({ fn: 'stats', apps: appsOf(open), method: 'get', path }, { fn: 'stats', apps: appsOf(keyed), method: 'get', path }, { fn: 'stats', apps: away, method: 'get', path });
  }
  list.push(
    { fn: 'stats', apps: appsOf(keyed), method: 'get', path: '/stats', init: read },
    { fn: 'stats', apps: appsOf(open), method: 'get', path: '/events', query: '?limit=1' },
    { fn: 'stats', apps: appsOf(open), method: 'get', path: '/events', query: '?limit=0' },
    { fn: 'stats', apps: appsOf(open), method: 'get', path: '/events', query: '?topic=orders&event_id=p&source=checkout-svc&since=2026-11-25T09:00:00%2B01:00&until=2026-11-26T00:00:00Z&order=desc&limit=5' },
    { fn: 'stats', apps: appsOf(open), method: 'get', path: '/events', query: '?order=sideways' },
    { fn: 'stats', apps: appsOf(open), method: 'get', path: '/events', query: '?evnt_id=p' },
    ...['/', '/stats'].flatMap((path): Scenario[] => [
      { fn: 'stats', apps: appsOf(open), method: 'get', path, query: '?topics_limit=1' },
      { fn: 'stats', apps: appsOf(open), method: 'get', path, query: '?topics_order=name&topics_limit=1' },
      { fn: 'stats', apps: appsOf(open), method: 'get', path, query: '?topics_limit=0' },
    ]),
    { fn: 'stats', apps: appsOf(open), method: 'get', path: '/dead-letters', query: '?limit=0' },
    ...(['replay', 'drop'] as const).flatMap((action): Scenario[] => {
      const letter = (apps: Apps, id: string): Scenario => ({ fn: 'stats', apps, method: 'post', path: `/dead-letters/{id}/${action}`, url: `/dead-letters/${id}/${action}` });
      return [letter(appsOf(open), parked[action]), letter(appsOf(open), '0123456789ab'), letter(appsOf(keyed), '0123456789ab'), letter(away, '0123456789ab')];
    }),
    { fn: 'stats', apps: appsOf(open), method: 'get', path: '/dashboard' },
    { fn: 'stats', apps: appsOf(open), method: 'get', path: '/openapi.json' },
  );
  for (const fn of ['ingest', 'process', 'stats'] as const) {
    for (const path of ['/healthz', '/readyz', '/metrics']) list.push({ fn, apps: appsOf(open), method: 'get', path });
    list.push({ fn, apps: away, method: 'get', path: '/readyz' });
  }
  return list;
}

describe.each(['ingest', 'process', 'stats'] as const)('the OpenAPI document of %s', (fn) => {
  it('lists every route of the app, and no other', () => {
    const document = functionDocument(fn, appsOf(open)[fn]);
    // `ALL /*` entries are middleware (instrumentation), not routes.
    // Hono writes a path parameter `:id`, OpenAPI `{id}`.
    const routes = appsOf(open)[fn].routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    expect([...new Set(routes)].sort()).toEqual(documentedRoutes(document).sort());
  });
});

it('is produced by the code: each documented status and error code happens, and every real answer fits its schema', async () => {
  const produced = new Set<string>();
  const problems: string[] = [];
  for (const s of scenarios()) {
    const document = functionDocument(s.fn, s.apps[s.fn]);
    const response = await s.apps[s.fn].request(`${s.url ?? s.path}${s.query ?? ''}`, { method: s.method.toUpperCase(), ...s.init });
    produced.add(`${s.fn} ${await answerOf(s.method, s.path, response)}`);
    problems.push(...(await responseProblems(document, s.method, s.path, response)).map((p) => `${s.fn}: ${p}`));
  }
  expect(problems).toEqual([]);
  const documented = (['ingest', 'process', 'stats'] as const).flatMap((fn) => documentedAnswers(functionDocument(fn, appsOf(open)[fn])).map((a) => `${fn} ${a}`));
  expect([...produced].sort()).toEqual(documented.sort());
});

it('documents exactly the query parameters the stats function accepts', () => {
  const paths = functionDocument('stats', open.stats).paths;
  const documented = (path: string) => (paths[path]?.get?.parameters ?? []).map((p) => p.name).sort();
  expect(documented('/events')).toEqual(Object.keys(eventsQuery(defaultConfig().limits).entries).sort());
  for (const path of ['/', '/stats']) expect(documented(path)).toEqual(Object.keys(statsQuery.entries).sort());
  expect(documented('/dead-letters')).toEqual(Object.keys(deadLettersQuery.entries).sort());
});

it('describes the event rules of the configured limits', async () => {
  const document = (await (await keyed.stats.request('/openapi.json')).json()) as OpenApiDocument;
  expect(document.openapi).toBe('3.1.0');
  expect(document.components.schemas.StoredEvent).toMatchObject({ properties: { topic: { maxLength: 128 } }, additionalProperties: false });
  const short = functionDocument('ingest', shortTopics);
  expect(short.components.schemas.Event).toMatchObject({ properties: { topic: { maxLength: 5 } }, additionalProperties: false });
});
