import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../runner/free-port.ts';
import { waitFor } from './wait.ts';

export { freePort };

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export type FunctionProcess = {
  url: string;
  child: ChildProcess;
  /** Everything the process printed, for assertions on its logs. */
  output: () => string;
  /** SIGTERM, then wait for the exit; resolves with the exit code. */
  stop: () => Promise<number | null>;
  /** SIGKILL: a crash, with no chance to clean up. */
  kill: () => Promise<void>;
  exited: Promise<number | null>;
};

/**
 * Starts a function (or the local runner) as its own process, as a container
 * would, and waits until its /healthz answers.
 *
 * @example const ingest = await startFunction('functions/ingest/server.ts', { REDIS_URL, QUEUE_PREFIX })
 */
export async function startFunction(entry: string, env: Record<string, string>, options: { port?: number } = {}): Promise<FunctionProcess> {
  if (options.port !== undefined) return startOn(entry, env, options.port);
  // A port free a moment ago can be taken before the process binds it: test files run in parallel,
  // and another one's freePort() may be handed the same port and bind it first. Then try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(entry, env, await freePort());
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === 3) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startOn(entry: string, env: Record<string, string>, port: number): Promise<FunctionProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  let gone = false;
  void exited.then(() => (gone = true));
  await waitFor(
    async () => gone || (await fetch(`${url}/healthz`)).ok,
    // Generous: on a busy 2-core machine a cold tsx start of the runner (two threads) can take half a minute.
    { timeoutMs: 50_000, what: `${entry} to answer /healthz` },
  ).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
  if (gone) throw new (output.includes('EADDRINUSE') ? PortTakenError : Error)(`${entry} exited early:\n${output}`);
  return {
    url,
    child,
    output: () => output,
    exited,
    stop: async () => {
      if (!gone) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
  };
}
