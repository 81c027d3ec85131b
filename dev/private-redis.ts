import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './processes.ts';
import { waitFor } from './wait.ts';

/**
 * A redis-server of its own for a test or the chaos run, on a free port, with
 * AOF and `appendfsync always` as production runs it, that the caller can kill
 * (SIGKILL, as a crash) and restart on the same port and data. Without
 * `durable`, no AOF: as the local Redis the bench measures against runs.
 *
 * @example const r = await startPrivateRedis(); await r.kill(); await r.start()
 */
export async function startPrivateRedis({ durable = true }: { durable?: boolean } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'agg-redis-'));
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;

  const ping = async () => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined); // refused while the server starts: the next poll tries again
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } finally {
      client.disconnect();
    }
  };

  async function start() {
    child = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      ...(durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ], { stdio: 'ignore' });
    await waitFor(ping, { timeoutMs: 15_000, what: `redis-server on ${port}` });
  }

  async function kill() {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    url,
    port,
    start,
    kill,
    /** Kills the server and removes its data. */
    destroy: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type PrivateRedis = Awaited<ReturnType<typeof startPrivateRedis>>;
