import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, defaultConfig, loadConfig, secretNameOf } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'agg-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const none = { secretsDir: null };

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = defaultConfig();
    expect(config.limits).toMatchObject({ maxBodyBytes: 5 * 1024 * 1024, maxEventsPerRequest: 1000, maxTopicLength: 128, maxPayloadBytes: 65536, maxPayloadDepth: 32 });
    expect(config.requestTimeoutMs).toBe(30_000);
    expect(config.ingestApiKeys).toEqual([]);
    expect(config.readApiKeys).toEqual([]);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads REQUEST_TIMEOUT_MS and refuses nonsense', () => {
    expect(loadConfig({ REQUEST_TIMEOUT_MS: '1500' }, none).requestTimeoutMs).toBe(1500);
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '5' }, none)).toThrow(/REQUEST_TIMEOUT_MS: must be at least 100/);
  });

  it('splits key lists on commas and whitespace', () => {
    expect(loadConfig({ INGEST_API_KEYS: ' a, b ,,c\nd ' }, none).ingestApiKeys).toEqual(['a', 'b', 'c', 'd']);
  });

  it('reads keys from the file a _FILE variable names', () => {
    writeFileSync(join(dir, 'ingest'), 'file-key-1\nfile-key-2\n');
    expect(loadConfig({ INGEST_API_KEYS_FILE: join(dir, 'ingest') }, none).ingestApiKeys).toEqual(['file-key-1', 'file-key-2']);
  });

  it('reads keys from OpenFaaS secret files, the variable winning over the file', () => {
    writeFileSync(join(dir, 'read-api-keys'), 'openfaas-read-key\n');
    writeFileSync(join(dir, 'ingest-api-keys'), 'openfaas-ingest-key');
    const config = loadConfig({ INGEST_API_KEYS: 'env-key' }, { secretsDir: dir });
    expect(config.ingestApiKeys).toEqual(['env-key']);
    expect(config.readApiKeys).toEqual(['openfaas-read-key']);
  });

  it('treats a missing OpenFaaS secret as unset, and a missing _FILE as an error naming the path', () => {
    expect(loadConfig({}, { secretsDir: join(dir, 'absent') }).readApiKeys).toEqual([]);
    expect(() => loadConfig({ READ_API_KEYS_FILE: join(dir, 'absent-file') }, none)).toThrow(ConfigError);
    expect(() => loadConfig({ READ_API_KEYS_FILE: join(dir, 'absent-file') }, none)).toThrow(/absent-file: ENOENT/);
  });

  it('refuses an empty secret file rather than leaving the routes open', () => {
    writeFileSync(join(dir, 'empty'), ' \n');
    expect(() => loadConfig({ READ_API_KEYS_FILE: join(dir, 'empty') }, none)).toThrow(/READ_API_KEYS holds no key/);
    const openfaas = mkdtempSync(join(dir, 'openfaas-'));
    writeFileSync(join(openfaas, 'ingest-api-keys'), '');
    expect(() => loadConfig({}, { secretsDir: openfaas })).toThrow(/INGEST_API_KEYS holds no key/);
  });

  it('refuses a key list given both as a variable and as a file: one of them would be ignored', () => {
    writeFileSync(join(dir, 'both'), 'file-key\n');
    for (const name of ['INGEST_API_KEYS', 'READ_API_KEYS']) {
      expect(() => loadConfig({ [name]: 'env-key', [`${name}_FILE`]: join(dir, 'both') }, none)).toThrow(`${name} and ${name}_FILE are both set: set one`);
    }
  });

  it('refuses WORKERS=0: a poller that never claims would leave every event pending', () => {
    expect(() => loadConfig({ WORKERS: '0' }, none)).toThrow(/WORKERS: must be at least 1/);
  });

  it('listens on loopback unless HOST says otherwise', () => {
    expect(defaultConfig().host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }, none).host).toBe('0.0.0.0');
  });

  it('reads a Redis Cluster as host:port nodes, and refuses a URL there', () => {
    expect(defaultConfig().redisClusterNodes).toEqual([]);
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'redis-0:6379, 10.0.0.2:7000' }, none).redisClusterNodes).toEqual([
      { host: 'redis-0', port: 6379 }, { host: '10.0.0.2', port: 7000 },
    ]);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis://redis-0:6379' }, none)).toThrow(/REDIS_CLUSTER_NODES: must be host:port/);
    expect(() => loadConfig({ REDIS_MIN_REPLICAS_ACK: '-1' }, none)).toThrow(/REDIS_MIN_REPLICAS_ACK/);
    writeFileSync(join(dir, 'redis-password'), 's3cret\n');
    expect(loadConfig({ REDIS_PASSWORD_FILE: join(dir, 'redis-password') }, none).redisPassword).toBe('s3cret');
  });

  it('reads events from DATABASE_URL unless DATABASE_READ_URL names a replica', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://primary/db' }, none).databaseReadUrl).toBe('postgres://primary/db');
    expect(loadConfig({ DATABASE_URL: 'postgres://primary/db', DATABASE_READ_URL: 'postgres://replica/db' }, none).databaseReadUrl).toBe('postgres://replica/db');
    expect(() => loadConfig({ DATABASE_READ_URL: 'mysql://replica/db' }, none)).toThrow(/DATABASE_READ_URL: must be a postgres: or postgresql: URL/);
  });

  it('lets up to QUEUE_MESSAGE_MAX_REQUESTS requests of a turn share a queue message, 100 unless set, 1 to 1,000', () => {
    expect(loadConfig({}, none).queueMessageMaxRequests).toBe(100);
    expect(loadConfig({ QUEUE_MESSAGE_MAX_REQUESTS: '1' }, none).queueMessageMaxRequests).toBe(1);
    expect(() => loadConfig({ QUEUE_MESSAGE_MAX_REQUESTS: '0' }, none)).toThrow(/QUEUE_MESSAGE_MAX_REQUESTS: must be at least 1/);
    expect(() => loadConfig({ QUEUE_MESSAGE_MAX_REQUESTS: '1001' }, none)).toThrow(/QUEUE_MESSAGE_MAX_REQUESTS/);
  });

  it('writes QUEUE_SHARDS shards and reads as many, or QUEUE_SHARDS_DRAIN when that is more', () => {
    expect(loadConfig({}, none)).toMatchObject({ queueShards: 1, queueShardsRead: 1 });
    expect(loadConfig({ QUEUE_SHARDS: '3' }, none)).toMatchObject({ queueShards: 3, queueShardsRead: 3 });
    expect(loadConfig({ QUEUE_SHARDS: '1', QUEUE_SHARDS_DRAIN: '3' }, none)).toMatchObject({ queueShards: 1, queueShardsRead: 3 });
    expect(loadConfig({ QUEUE_SHARDS: '4', QUEUE_SHARDS_DRAIN: '3' }, none)).toMatchObject({ queueShards: 4, queueShardsRead: 4 });
    expect(() => loadConfig({ QUEUE_SHARDS: '0' }, none)).toThrow(/QUEUE_SHARDS: must be at least 1/);
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', MAX_BODY_BYTES: '0' }, none)).toThrow(/PORT: must be a whole number.*MAX_BODY_BYTES: must be at least 1/);
  });

  it('lists exactly the variables it reads: each listed one changes the config, an unlisted one nothing', () => {
    // Values each variable accepts, one of which differs from its default; a _FILE gets a file holding one.
    const samples = (name: string): string[] => {
      if (name.endsWith('_FILE')) {
        return samples(name.slice(0, -'_FILE'.length)).map((value, i) => {
          const path = join(dir, `sample-${name}-${i}`);
          writeFileSync(path, value);
          return path;
        });
      }
      if (name.endsWith('_URL')) return [`${name.startsWith('REDIS') ? 'redis' : 'postgres'}://example:1/x`];
      return name === 'LOG_LEVEL' ? ['debug'] : ['k1', '7', '200', '127.0.0.1:7000'];
    };
    const base = JSON.stringify(loadConfig({}, none));
    for (const name of CONFIG_VARIABLES) {
      const changed = samples(name).some((value) => {
        try {
          return JSON.stringify(loadConfig({ [name]: value }, none)) !== base;
        } catch {
          return false;
        }
      });
      expect(changed, name).toBe(true);
    }
    expect(JSON.stringify(loadConfig({ REDIS_URI: 'redis://example:1' }, none))).toBe(base);
    expect(CONFIG_VARIABLES).not.toContain('REDIS_URI');
  });

  it('reads any variable from its OpenFaaS secret file (a Kubernetes secret volume alike), trimmed; the environment wins unless empty', () => {
    const secrets = mkdtempSync(join(dir, 'volume-'));
    // Laid out as Kubernetes mounts a secret volume: ..data holds the files, names link into it.
    mkdirSync(join(secrets, '..data'));
    writeFileSync(join(secrets, '..data', 'database-url'), 'postgres://app:pw@db:5432/app\n');
    symlinkSync('..data/database-url', join(secrets, 'database-url'));
    writeFileSync(join(secrets, 'redis-url'), '  redis://secret:6379  ');
    writeFileSync(join(secrets, 'not a variable'), 'x');
    expect(secretNameOf('DATABASE_URL')).toBe('database-url');
    const fromFiles = loadConfig({}, { secretsDir: secrets });
    expect(fromFiles.databaseUrl).toBe('postgres://app:pw@db:5432/app');
    expect(fromFiles.redisUrl).toBe('redis://secret:6379');
    const overridden = loadConfig({ REDIS_URL: 'redis://explicit:6379', DATABASE_URL: '' }, { secretsDir: secrets });
    expect(overridden.redisUrl).toBe('redis://explicit:6379');
    expect(overridden.databaseUrl).toBe('postgres://app:pw@db:5432/app');
  });

  it('refuses an empty secret file for any variable, and two sources for one', () => {
    const secrets = mkdtempSync(join(dir, 'empty-'));
    writeFileSync(join(secrets, 'database-url'), '\n');
    expect(() => loadConfig({}, { secretsDir: secrets })).toThrow('the secret file for DATABASE_URL holds no value');
    writeFileSync(join(dir, 'db-url'), 'postgres://a@b:1/c');
    expect(() => loadConfig({ DATABASE_URL: 'postgres://x@y:1/z', DATABASE_URL_FILE: join(dir, 'db-url') }, none)).toThrow('DATABASE_URL and DATABASE_URL_FILE are both set: set one');
    expect(loadConfig({ DATABASE_URL_FILE: join(dir, 'db-url') }, none).databaseUrl).toBe('postgres://a@b:1/c');
  });
});
