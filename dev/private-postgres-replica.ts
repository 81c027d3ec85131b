import pg from 'pg';
import { pgServer, privatePgDir, runPgTool, type PrivatePostgres } from './private-postgres.ts';
import { waitFor } from './wait.ts';

/**
 * A streaming replica of a private PostgreSQL (test/support/private-postgres.ts):
 * `pg_basebackup -R` copies the primary and writes the standby settings
 * (`standby.signal`, `primary_conninfo`), then the copy starts on its own port
 * and follows the primary's WAL. Read-only; `stop`/`start` as for the primary.
 *
 * @example const replica = await startStreamingReplica(primary); await replica.caughtUp(primary)
 */
export async function startStreamingReplica(primary: PrivatePostgres) {
  const place = await privatePgDir('pg-replica');
  runPgTool('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', place.data, '-R', '-X', 'stream', '--no-sync']);
  const server = pgServer(place);
  await server.start();

  /** Waits until the replica has replayed everything the primary has written so far. */
  async function caughtUp(timeoutMs = 30_000) {
    const target = await queryOne(primary.url, 'select pg_current_wal_lsn()::text as lsn');
    await waitFor(
      async () => (await queryOne(server.url, `select pg_last_wal_replay_lsn() >= '${target}'::pg_lsn as ok`)) === true,
      { timeoutMs, what: `the replica on ${server.port} to replay up to ${String(target)}` },
    );
  }
  return { ...server, caughtUp };
}

async function queryOne(url: string, text: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(text);
    return Object.values(rows[0] as object)[0];
  } finally {
    await client.end();
  }
}

export type StreamingReplica = Awaited<ReturnType<typeof startStreamingReplica>>;
