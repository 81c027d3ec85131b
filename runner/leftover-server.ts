import { readFile } from 'node:fs/promises';
import type { Logger } from '../shared/log/logger.ts';
import { ZeroSetupError } from './zero-setup-error.ts';

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid on the first line of a server's pid file, or 0. */
export const pidIn = async (pidFile: string): Promise<number> => Number((await readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0]) || 0;

/**
 * Stops a server that an earlier start left running on the same data (that
 * runner was killed before it could stop it), found by the pid file the server
 * keeps in its data directory: two servers on one data directory would corrupt
 * it. Only a live process of the expected name is signalled (Linux's /proc
 * tells the name); one that cannot be identified or does not stop is an error.
 *
 * @example await stopLeftover('.data/redis/redis.pid', 'redis-server', 'SIGTERM', logger)
 */
export async function stopLeftover(pidFile: string, name: string, signal: NodeJS.Signals, logger: Logger): Promise<void> {
  const pid = await pidIn(pidFile);
  if (pid === 0 || !alive(pid)) return;
  const command = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
  if (command !== name) {
    throw new ZeroSetupError(`${pidFile} names pid ${pid}, which runs and is not known to be a ${name}: stop it, or remove the file`);
  }
  process.kill(pid, signal);
  for (const deadline = Date.now() + 15_000; alive(pid); await new Promise((resolve) => setTimeout(resolve, 50))) {
    if (Date.now() > deadline) throw new ZeroSetupError(`a ${name} left running by an earlier start (pid ${pid}) did not stop: stop it, then start again`);
  }
  logger.warn({ pid }, `Stopped a ${name} left running by an earlier start`);
}
