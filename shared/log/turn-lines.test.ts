import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { turnLines } from './turn-lines.ts';

const TURN_LINES = fileURLToPath(new URL('./turn-lines.ts', import.meta.url));
const LOGGER = fileURLToPath(new URL('./logger.ts', import.meta.url));
const TSX_API = import.meta.resolve('tsx/esm/api');

/** What a turn scheduled now waits for: every setImmediate scheduled before it has run. */
const turnEnd = () => new Promise((resolve) => setImmediate(resolve));

let dir: string;
let path: string;
let fd: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'turn-lines-'));
  path = join(dir, 'out.log');
  fd = openSync(path, 'w');
});
afterEach(() => {
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

const written = () => readFileSync(path, 'utf8');
const messages = () => written().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { msg: string }).msg);

describe('turnLines: the log lines of one event-loop turn, written together', () => {
  it('writes nothing while the turn runs, and every line, in order, once it ends', async () => {
    const logger = createLogger('ingest', 'info', turnLines(fd));
    logger.info({ batch_id: 'b1', events: 1 }, 'Enqueued event');
    logger.info({ batch_id: 'b2', events: 1 }, 'Enqueued event');
    logger.warn({ status: 503 }, 'Refused request');
    expect(written()).toBe('');
    await turnEnd();
    expect(messages()).toEqual(['Enqueued event', 'Enqueued event', 'Refused request']);

    // The next turn's lines come after, and only at its end.
    logger.info({ claim_id: 'c1' }, 'Saved to DB');
    expect(messages()).toHaveLength(3);
    await turnEnd();
    expect(messages()).toEqual(['Enqueued event', 'Enqueued event', 'Refused request', 'Saved to DB']);
  });

  it('writes during a turn once 8 KiB gather, so that a busy turn holds little, and never a partial line', async () => {
    const logger = createLogger('process', 'info', turnLines(fd));
    const batchIds = Array.from({ length: 40 }, (_, i) => `batch-${i}-${'x'.repeat(30)}`);
    // Each line about 1.9 KB: the fifth passes 8 KiB.
    for (let i = 0; i < 5; i++) logger.info({ line: i, batch_ids: batchIds }, 'Saved to DB');
    const midTurn = written();
    expect(midTurn.length).toBeGreaterThan(8 * 1024);
    expect(midTurn.endsWith('\n')).toBe(true);
    logger.info({ line: 5, batch_ids: batchIds }, 'Saved to DB');
    await turnEnd();
    const lines = written().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { line: number; batch_ids: string[] });
    expect(lines.map((line) => line.line)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(lines.every((line) => line.batch_ids.length === 40)).toBe(true);
  });

  // The runner stops through process.exit(), and so does its storage thread (in a worker, that ends the thread).
  const LOGS_AND_EXITS = `
    import { turnLines } from ${JSON.stringify(TURN_LINES)};
    import { createLogger } from ${JSON.stringify(LOGGER)};
    const logger = createLogger('runner', 'info', turnLines(1));
    logger.info('Stopping');
    logger.info({ code: 0 }, 'Stopped');
    process.exit(0);`;
  const runScript = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(dir, name)], { encoding: 'utf8', timeout: 30_000 });
    return out.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { msg: string }).msg);
  };

  it('writes the lines of the last turn when the process exits in it', () => {
    expect(runScript('main.mts', LOGS_AND_EXITS)).toEqual(['Stopping', 'Stopped']);
  });

  it('writes the lines of the last turn when a worker thread exits in it', () => {
    writeFileSync(join(dir, 'worker.mts'), LOGS_AND_EXITS);
    // As runner/storage-thread.ts starts its worker: tsx registered in the thread, then the module.
    const main = `
      import { Worker } from 'node:worker_threads';
      const start = 'import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(pathToFileURL(join(dir, 'worker.mts')).href)}); })';
      new Worker(start, { eval: true }).on('exit', () => console.log(JSON.stringify({ msg: 'worker ended' })));`;
    expect(runScript('main.mts', main)).toEqual(['Stopping', 'Stopped', 'worker ended']);
  });
});
