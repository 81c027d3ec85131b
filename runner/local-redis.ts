import { spawn } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Logger } from '../shared/log/logger.ts';
import { freePort } from './free-port.ts';
import { stopLeftover } from './leftover-server.ts';
import { answers } from './tcp-probe.ts';
import { ZeroSetupError } from './zero-setup-error.ts';

export type StartedService = { url: string; stop: () => Promise<void> };

/** The path of `redis-server` on PATH, or null when it is not installed. */
export async function findRedisServer(path = process.env.PATH ?? ''): Promise<string | null> {
  for (const dir of path.split(delimiter).filter((d) => d !== '')) {
    const candidate = join(dir, 'redis-server');
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return null;
}

/**
 * Starts `redis-server` on a free port of 127.0.0.1 with its data in `dir` and
 * the append-only file on, fsynced at every write, as the contract's durability
 * needs. It runs in a process group of its own, so a Ctrl-C reaches the runner
 * first and the runner stops it last, after its own in-flight work.
 *
 * @example const redis = await startLocalRedis('/usr/bin/redis-server', '.data/redis', logger)
 */
export async function startLocalRedis(binary: string, dir: string, logger: Logger): Promise<StartedService> {
  await mkdir(dir, { recursive: true });
  const pidFile = join(dir, 'redis.pid');
  await stopLeftover(pidFile, 'redis-server', 'SIGTERM', logger);
  const port = await freePort();
  const child = spawn(binary, [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
    '--pidfile', pidFile, '--logfile', join(dir, 'redis.log'), '--daemonize', 'no',
  ], { detached: true, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // If the runner dies without stopping it (an uncaught error), the server goes too.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);

  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 10_000;
  while (!(await answers(`127.0.0.1:${port}`, 200))) {
    if (gone || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new ZeroSetupError(`redis-server did not start (see ${join(dir, 'redis.log')})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  logger.info({ port, data_dir: dir, appendonly: true }, 'Started a local redis-server');
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      process.off('exit', killOnExit);
      if (!gone) child.kill('SIGTERM'); // Redis writes the append-only file out and exits.
      await exited;
      logger.info('Stopped the local redis-server');
    },
  };
}
