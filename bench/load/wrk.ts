import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from './http-load.ts';

const SCRIPT = fileURLToPath(new URL('./replay.lua', import.meta.url));

/** What to do when wrk is missing: said before the bench starts anything. */
export const WRK_MISSING = 'wrk is not installed: apt-get install -y wrk (Debian package wrk), or run with --publisher node (autocannon, in Node on the same cores)';

/** The wrk on PATH, or null. */
export function findWrk(path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, 'wrk'), constants.X_OK);
      return join(dir, 'wrk');
    } catch {
      // not in this directory
    }
  }
  return null;
}

type WrkSummary = { accepted: number; failed: number; requests: number; p50_us: number; p95_us: number; p99_us: number; max_us: number };

/**
 * POSTs every body exactly once with wrk (a C load generator, so the publisher costs little of the
 * cores it shares with the system), over `connections` keep-alive connections. Each wrk thread
 * replays its share of the bodies (bench/load/replay.lua) and says when all are answered; wrk
 * itself runs for a fixed time, so it is interrupted once every thread is done. The rate counts
 * from the start to the last answer.
 *
 * @example const r = await replayWithWrk(`${url}/publish`, bodies, { connections: 32 })
 */
export async function replayWithWrk(url: string, bodies: readonly string[], options: { connections: number }): Promise<LoadResult> {
  const wrk = findWrk();
  if (!wrk) throw new Error(WRK_MISSING);
  const connections = Math.max(1, Math.min(options.connections, bodies.length));
  const threads = Math.min(2, connections);
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  try {
    for (let t = 0; t < threads; t++) writeFileSync(join(dir, `${t}.txt`), bodies.filter((_, i) => i % threads === t).map((b) => `${b}\n`).join(''));
    const target = new URL(url);
    const started = performance.now();
    let finished = 0;
    let output = '';
    let doneThreads = 0;
    const child = spawn(wrk, ['-t', String(threads), '-c', String(connections), '-d', '3600s', '--timeout', '30s', '-s', SCRIPT, target.origin, '--', dir, target.pathname], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const seen = output.split('\n').filter((line) => line === 'done').length;
      if (seen > doneThreads && (doneThreads = seen) === threads) {
        finished = performance.now();
        child.kill('SIGINT'); // wrk then prints its summary through done()
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // A request that never gets its answer would keep its thread from being done: give up, loudly, in time.
    const deadline = setTimeout(() => child.kill('SIGINT'), 120_000 + bodies.length * 10);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(deadline);
    const line = output.split('\n').find((l) => l.startsWith('{"accepted"'));
    if (!line || finished === 0) throw new Error(`wrk ended (code ${code}) before every body was answered:\n${output.slice(-2000)}`);
    const summary = JSON.parse(line) as WrkSummary;
    const seconds = (finished - started) / 1000;
    const ms = (us: number) => us / 1000;
    return {
      requests: bodies.length,
      accepted: summary.accepted,
      statuses: { 202: summary.accepted, ...(summary.failed > 0 ? { other: summary.failed } : {}) },
      lost: bodies.length - summary.accepted - summary.failed,
      seconds,
      requestsPerSecond: bodies.length / seconds,
      latency: { p50: ms(summary.p50_us), p95: ms(summary.p95_us), p99: ms(summary.p99_us), max: ms(summary.max_us) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
