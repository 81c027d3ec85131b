import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../../shared/queue/queue-keys.ts';
import { freePort } from '../../dev/processes.ts';
import { createTestDatabase, testRedis, TEST_REDIS_URL, type TestDatabase } from '../../dev/services.ts';
import { waitFor } from '../../dev/wait.ts';
import { dockerfileStages } from './support/artefacts.ts';
import { buildDist, runNode, startCompiled } from './support/compiled.ts';

const event = (id: string) => ({ topic: 'orders', event_id: id, timestamp: '2026-11-25T08:00:00Z', source: 'build-test', payload: { id } });
const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('infra/Dockerfile', () => {
  const stages = dockerfileStages('infra/Dockerfile');
  const runtime = stages.at(-1)!;
  const op = (name: string) => runtime.instructions.filter((i) => i.op === name).map((i) => i.args);

  it('builds in stages and runs the last one as an unprivileged user with a health check', () => {
    expect(stages.map((s) => s.name)).toEqual(['deps', 'build', 'test', 'runtime']);
    expect(op('USER').at(-1)).toBe('node');
    expect(op('HEALTHCHECK')).toHaveLength(1);
    // Only compiled code and production dependencies reach the runtime stage.
    expect(op('COPY').join('\n')).not.toMatch(/--from=build \/app\/node_modules/);
    expect(op('COPY').join('\n')).toMatch(/--from=deps \/app\/node_modules/);
  });

  it('listens on every address: the container port is published from outside (npm start keeps loopback)', () => {
    expect(op('ENV')).toContain('HOST=0.0.0.0');
  });
});

describe('the compiled image code', () => {
  let dist: Awaited<ReturnType<typeof buildDist>>;
  let database: TestDatabase;
  const redis = testRedis('image-build');
  // The local runner gets a queue of its own: it would otherwise process what the ingest test left queued.
  const localRedis = testRedis('image-build-local');
  const stops: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    [dist, database] = await Promise.all([buildDist(), createTestDatabase('image_build', { migrate: false })]);
    // As the runtime stage does for FUNCTION=ingest: dist/main.js links to the chosen server.
    await symlink('functions/ingest/server.js', join(dist.dir, 'main.js'));
  }, 150_000);

  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
    await Promise.all([dist?.remove(), redis.cleanup(), localRedis.cleanup(), database?.drop()]);
  });

  it('starts ingest through the entrypoint and main.js link, Lua scripts included', async () => {
    const ingest = await startCompiled(dist.dir, 'main.js', { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix });
    stops.push(ingest.stop);
    expect(await (await fetch(`${ingest.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const response = await post(`${ingest.url}/publish`, [event('a'), event('b')]);
    expect(response.status).toBe(202);
    expect(await redis.redis.llen(queueKeys(redis.prefix).queue)).toBe(1);

    const healthcheck = join(dist.dir, 'infra/healthcheck.js');
    expect((await runNode([healthcheck], { PORT: String(ingest.port) })).code).toBe(0);
    expect((await runNode([healthcheck], { PORT: String(await freePort()) })).code).toBe(1);
  });

  it('migrates a fresh database with the migration Job, twice without harm', async () => {
    const migrate = [join(dist.dir, 'infra/migrate.js')];
    const first = await runNode(migrate, { DATABASE_URL: database.url, LOG_LEVEL: 'info' });
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain('Applied database migrations');
    const second = await runNode(migrate, { DATABASE_URL: database.url, LOG_LEVEL: 'info' });
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain('Schema is up to date');
    const rows = await sql<{ n: string }>`select count(*) as n from events`.execute(database.db);
    expect(rows.rows[0]?.n).toBe('0');
  });

  it('runs the whole pipeline compiled: publish, process, stats', async () => {
    const local = await startCompiled(dist.dir, 'runner/local.js', {
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: localRedis.prefix,
      DATABASE_URL: database.url,
    });
    stops.push(local.stop);
    expect((await post(`${local.url}/publish`, [event('x'), event('y'), event('x')])).status).toBe(202);
    const stats = await waitFor(
      async () => {
        const body = (await (await fetch(`${local.url}/stats`)).json()) as { unique_processed: number; pending: number };
        return body.pending === 0 && body.unique_processed === 2 ? body : null;
      },
      { timeoutMs: 30_000, what: 'the compiled runner to store the events' },
    );
    expect(stats).toMatchObject({ received: 3, unique_processed: 2, duplicate_dropped: 1, pending: 0 });
  });
});
