import { cpus, totalmem } from 'node:os';
import type { Redis } from 'ioredis';
import pg from 'pg';

export type Machine = {
  node: string;
  cpu: string;
  cores: number;
  memoryGb: number;
  postgres: Record<string, string>;
  redis: Record<string, string>;
};

const POSTGRES_SETTINGS = ['server_version', 'synchronous_commit', 'fsync', 'shared_buffers', 'max_wal_size', 'wal_level'];

/** What the numbers were measured on: they mean little without it. */
export async function describeMachine(adminUrl: string, redis: Redis): Promise<Machine> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(
      'SELECT name, current_setting(name) AS setting FROM unnest($1::text[]) AS name', [POSTGRES_SETTINGS]);
    const info = new Map((await redis.info('server')).split('\r\n').map((line) => line.split(':') as [string, string]));
    const config = (await redis.config('GET', 'appendonly')) as string[];
    return {
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      postgres: Object.fromEntries(rows.map((r) => [r.name, r.setting])),
      redis: { version: info.get('redis_version') ?? 'unknown', appendonly: config[1] ?? 'unknown' },
    };
  } finally {
    await client.end();
  }
}
