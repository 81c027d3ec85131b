import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretEnv, variableForSecret } from '../../infra/secret-env.ts';

describe('OpenFaaS secret files to environment (infra/secret-env.ts)', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secrets-'));
    // Laid out as Kubernetes mounts a secret volume: ..data holds the files, names link into it.
    await mkdir(join(dir, '..data'));
    await writeFile(join(dir, '..data', 'database-url'), 'postgres://app:pw@db:5432/app\n');
    await symlink('..data/database-url', join(dir, 'database-url'));
    await writeFile(join(dir, 'redis-url'), 'redis://secret:6379');
    await writeFile(join(dir, 'ingest-api-keys'), '  k1,k2  ');
    await writeFile(join(dir, 'not a variable'), 'x');
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('names the variable a secret stands for', () => {
    expect(variableForSecret('read-api-keys')).toBe('READ_API_KEYS');
  });

  it('turns each secret file into its variable, trimmed, and skips what is not a secret', () => {
    expect(secretEnv(dir, {})).toEqual({
      DATABASE_URL: 'postgres://app:pw@db:5432/app',
      REDIS_URL: 'redis://secret:6379',
      INGEST_API_KEYS: 'k1,k2',
    });
  });

  it('leaves a variable the environment already sets, unless it is empty', () => {
    const supplied = secretEnv(dir, { REDIS_URL: 'redis://explicit:6379', DATABASE_URL: '' });
    expect(supplied.REDIS_URL).toBeUndefined();
    expect(supplied.DATABASE_URL).toBe('postgres://app:pw@db:5432/app');
  });

  it('supplies nothing where there is no secrets folder', () => {
    expect(secretEnv(join(dir, 'absent'), {})).toEqual({});
  });
});
