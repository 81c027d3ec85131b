import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event } from '../../dev/harness.ts';
import { startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { createTestDatabase, TEST_REDIS_URL, testRedis, type TestDatabase } from '../../dev/services.ts';
import { queueProbe } from './queue-probe.ts';

// API keys on a real ingest (keys from the environment) and a real stats
// (keys from a secret file, as Docker and OpenFaaS hand them over).

const INGEST_KEYS = ['ingest-key-one-7f3a9c', 'ingest-key-two-b81d44'];
const READ_KEYS = ['read-key-alpha-55e0c2', 'read-key-beta-0a9f17'];
const WRONG_KEYS = ['wrong-key-d3c2b1', `${INGEST_KEYS[0]}x`, 'ingest-key-one-7f3a9'];

const r = testRedis('hostile-access');
const probe = queueProbe(r.redis, r.prefix);
const secrets = mkdtempSync(join(tmpdir(), 'agg-secrets-'));
let database: TestDatabase;
let ingest: FunctionProcess;
let stats: FunctionProcess;

beforeAll(async () => {
  database = await createTestDatabase('hostile_access');
  writeFileSync(join(secrets, 'read-api-keys'), `${READ_KEYS.join('\n')}\n`);
  const common = { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: r.prefix, LOG_LEVEL: 'debug' };
  [ingest, stats] = await Promise.all([
    startFunction('functions/ingest/server.ts', { ...common, INGEST_API_KEYS: INGEST_KEYS.join(','), READ_API_KEYS: '' }),
    startFunction('functions/stats/server.ts', {
      ...common, DATABASE_URL: database.url, INGEST_API_KEYS: '', READ_API_KEYS: '', READ_API_KEYS_FILE: join(secrets, 'read-api-keys'),
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([ingest?.stop(), stats?.stop()]);
  await r.cleanup();
  await database?.drop();
  rmSync(secrets, { recursive: true, force: true });
});

const publish = (headers: Record<string, string>, body = JSON.stringify(event())) =>
  fetch(`${ingest.url}/publish`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('ingest with INGEST_API_KEYS', () => {
  const refused: Array<[string, Record<string, string>]> = [
    ['no key', {}],
    ['a wrong bearer key', { authorization: `Bearer ${WRONG_KEYS[0]}` }],
    ['a wrong X-API-Key', { 'x-api-key': WRONG_KEYS[0] as string }],
    ['a key with one character more', { authorization: `Bearer ${WRONG_KEYS[1]}` }],
    ['a key with one character less', { 'x-api-key': WRONG_KEYS[2] as string }],
    ['a read key', { authorization: `Bearer ${READ_KEYS[0]}` }],
    ['the right key as Basic credentials', { authorization: `Basic ${Buffer.from(`${INGEST_KEYS[0]}:`).toString('base64')}` }],
    ['the right key without a scheme', { authorization: INGEST_KEYS[0] as string }],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['both keys in one header', { 'x-api-key': INGEST_KEYS.join(',') }],
  ];

  it.each(refused)('refuses %s with 401 and queues nothing', async (_name, headers) => {
    const response = await publish(headers);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(await response.json()).toMatchObject({ error: 'unauthorized' });
    expect(await probe()).toEqual({ queued: 0, received: 0 });
  });

  it('checks the key before reading the body', async () => {
    const response = await fetch(`${ingest.url}/`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(6 * 1024 * 1024) });
    expect(response.status).toBe(401);
  });

  it('accepts each key, as a bearer token (any case) or as X-API-Key', async () => {
    expect((await publish({ authorization: `Bearer ${INGEST_KEYS[0]}` }, JSON.stringify(event({ event_id: 'a-1' })))).status).toBe(202);
    expect((await publish({ authorization: `bearer ${INGEST_KEYS[1]}` }, JSON.stringify(event({ event_id: 'a-2' })))).status).toBe(202);
    expect((await publish({ 'x-api-key': INGEST_KEYS[1] as string }, JSON.stringify(event({ event_id: 'a-3' })))).status).toBe(202);
    expect(await probe()).toEqual({ queued: 3, received: 3 });
  });

  it('leaves health, readiness and metrics open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await fetch(`${ingest.url}${path}`)).status).toBe(200);
  });
});

describe('stats with READ_API_KEYS from a secret file', () => {
  it.each(['/', '/stats', '/events'])('GET %s needs a read key', async (path) => {
    expect((await fetch(`${stats.url}${path}`)).status).toBe(401);
    expect((await fetch(`${stats.url}${path}`, { headers: { authorization: `Bearer ${INGEST_KEYS[0]}` } })).status).toBe(401);
    expect((await fetch(`${stats.url}${path}`, { headers: { authorization: `Bearer ${READ_KEYS[0]}` } })).status).toBe(200);
    expect((await fetch(`${stats.url}${path}`, { headers: { 'x-api-key': READ_KEYS[1] as string } })).status).toBe(200);
  });

  const longTopic = 'a'.repeat(129);
  const foreignCursor = Buffer.from('s:abc').toString('base64url');
  const BAD_QUERIES = [
    'limit=0', 'limit=1001', 'limit=-1', 'limit=abc', 'limit=1.5', 'limit=1e2', 'limit=', 'limit=%20100', 'limit=99999999999999999999',
    'topic=', 'topic=has%20space', `topic=${longTopic}`, 'topic=%F0%9F%98%80', 'topic=%00', 'topic=%ZZ',
    'after=garbage', 'after=', `after=${foreignCursor}`, `after=${'A'.repeat(5000)}`, "after=1'%20OR%201=1",
  ];

  it.each(BAD_QUERIES)('GET /events?%s is a 400 that does not echo the input', async (query) => {
    const response = await fetch(`${stats.url}/events?${query}`, { headers: { authorization: `Bearer ${READ_KEYS[0]}` } });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ error: 'invalid_query' });
    expect(text).not.toContain('AAAAAAAAAA');
    expect(text).not.toContain(longTopic);
  });

  it('checks the key before the query', async () => {
    expect((await fetch(`${stats.url}/events?limit=0`)).status).toBe(401);
  });
});

describe('logs', () => {
  it('never hold a key, given or presented, even at debug level', async () => {
    await Promise.all([ingest.stop(), stats.stop()]);
    const logs = ingest.output() + stats.output();
    // The logs are there (debug lines of the accepted events), so their silence about keys means something.
    expect(ingest.output()).toContain('Enqueued event');
    for (const key of [...INGEST_KEYS, ...READ_KEYS, ...WRONG_KEYS]) expect(logs).not.toContain(key);
  });
});
