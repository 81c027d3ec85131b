import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './processes.ts';
import { waitFor } from './wait.ts';

// The PostgreSQL installed from Debian's packages; its server refuses to run as root, so as root it runs as `postgres`.
const BIN = join('/usr/lib/postgresql', readdirSync('/usr/lib/postgresql').sort().at(-1) ?? '15', 'bin');
const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL tool (initdb, pg_ctl, pg_basebackup), as `postgres` when we are root. */
export function runPgTool(tool: string, args: string[]) {
  const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(BIN, tool), ...args]] : [join(BIN, tool), args];
  const result = spawnSync(command, argv, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
}

/** A temporary folder the server's user owns, with a free port for a server in it. */
export async function privatePgDir(label: string) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `agg-${label}-`));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  return { port, dir, data: join(dir, 'data') };
}

/**
 * Start, stop and remove the server whose data folder is `data` in `dir`, listening on `port`;
 * `serverOptions` go to the server's command line after ours (`-c hba_file=...`, say).
 */
export function pgServer({ port, dir, data }: { port: number; dir: string; data: string }, serverOptions: string[] = []) {
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  const answers = async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  async function start() {
    runPgTool('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-o', [`-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, ...serverOptions].join(' '), 'start']);
    await waitFor(answers, { timeoutMs: 30_000, what: `PostgreSQL on ${port}` });
  }

  /** Stops at once, as a crash would: open transactions are lost, connections cut. */
  async function stop() {
    runPgTool('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
  }

  return {
    url,
    port,
    start,
    stop,
    destroy: async () => {
      try {
        await stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A PostgreSQL server of the test's own (initdb into a temporary folder, trust
 * auth, a free port) that the test can stop (`immediate`: like a crash) and start.
 * initdb's defaults (wal_level replica, max_wal_senders 10, a trusted
 * `replication` line for 127.0.0.1) let it be a streaming primary as it is.
 *
 * @example const p = await startPrivatePostgres(); await p.stop(); await p.start()
 */
export async function startPrivatePostgres(options: { serverOptions?: string[] } = {}) {
  const place = await privatePgDir('pg');
  runPgTool('initdb', ['-D', place.data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const server = pgServer(place, options.serverOptions);
  await server.start();
  return server;
}

export type PrivatePostgres = Awaited<ReturnType<typeof startPrivatePostgres>>;
