import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../dev/wait.ts';
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
const parsed = (text: string) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg: string; n?: number; dropped?: number });
const messages = () => parsed(written()).map((line) => line.msg);

/** A script of its own (an .mts file in the test's folder) that imports the logger and turnLines. */
function script(name: string, body: string) {
  writeFileSync(join(dir, name), `
    import { turnLines } from ${JSON.stringify(TURN_LINES)};
    import { createLogger } from ${JSON.stringify(LOGGER)};
    import { writeSync } from 'node:fs';
    ${body}`);
  return join(dir, name);
}
const runScript = (file: string) => parsed(execFileSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 30_000 })).map((line) => line.msg);

/** Starts a script's process with its stdout unread (and its stderr read), and a promise of its exit code once its output is all in. */
function startScript(name: string, body: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', script(name, body)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  const output = { errors: '', out: '' };
  child.stderr.on('data', (data) => (output.errors += data));
  return { child, closed, output, read: () => child.stdout.setEncoding('utf8').on('data', (data: string) => (output.out += data)) };
}

/**
 * Runs `body` in a process whose stdout nobody reads until it writes `logged` to stderr; then reads it
 * until `until` holds of what came, and only then tells the process to exit (a line on its stdin), so
 * that what arrived before is what the process wrote while running. Resolves with its stdout and exit code.
 */
async function withStalledReader(body: string, until: (out: string) => boolean) {
  const { child, closed, output, read } = startScript('stalled.mts', `${body}
    writeSync(2, 'logged\\n');
    process.stdin.once('data', () => process.exit(0));`);
  try {
    // A thread held by its full stdout would never get here.
    await waitFor(() => output.errors.includes('logged'), { timeoutMs: 30_000, what: `the script to log without its stdout read (stderr: ${output.errors})` });
    read();
    await waitFor(() => until(output.out), { timeoutMs: 30_000, what: 'the held lines to arrive while the script runs' });
    child.stdin.write('go\n');
    const code = await closed;
    return { out: output.out, errors: output.errors, code };
  } finally {
    child.kill('SIGKILL');
  }
}

/** A script's body: 2,000 lines of about 1 KB (2 MB, far more than a pipe holds) in 40 turns, numbered `n`, to `destination`. */
const logs2000 = (destination: string) => `
  const logger = createLogger('ingest', 'info', ${destination});
  const pad = 'x'.repeat(1000);
  for (let turn = 0; turn < 40; turn++) {
    for (let i = 0; i < 50; i++) logger.info({ n: turn * 50 + i, pad }, 'Enqueued event');
    await new Promise((resolve) => setImmediate(resolve));
  }`;

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

  it('gathers the lines of callbacks that run in the same turn, such as requests answered one after another', async () => {
    const logger = createLogger('ingest', 'info', turnLines(fd));
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      setImmediate(() => logger.info({ batch_id: 'b1' }, 'Enqueued event'));
      setImmediate(() => {
        seen.push(written());
        logger.info({ batch_id: 'b2' }, 'Enqueued event');
      });
      setImmediate(resolve);
    });
    expect(seen).toEqual(['']);
    await turnEnd();
    expect(messages()).toEqual(['Enqueued event', 'Enqueued event']);
  });

  it('writes as it goes once 4 KiB gather, so that a busy turn holds little, and never a partial line', async () => {
    const logger = createLogger('process', 'info', turnLines(fd));
    const pad = 'x'.repeat(1100);
    // Each line about 1.2 KB: the fourth passes 4 KiB.
    for (let n = 0; n < 4; n++) logger.info({ n, pad }, 'Saved to DB');
    expect(written().length).toBeGreaterThan(4096);
    logger.info({ n: 4, pad }, 'Saved to DB');
    expect(parsed(written()).map((line) => line.n)).toEqual([0, 1, 2, 3]);
    await turnEnd();
    expect(parsed(written()).map((line) => line.n)).toEqual([0, 1, 2, 3, 4]);
  });

  // The runner stops through process.exit(), and so does its storage thread (in a worker, that ends the thread).
  const LOGS_AND_EXITS = `
    const logger = createLogger('runner', 'info', turnLines(1));
    logger.info('Stopping');
    logger.info({ code: 0 }, 'Stopped');
    process.exit(0);`;

  it('writes the lines of the last turn when the process exits in it', () => {
    expect(runScript(script('main.mts', LOGS_AND_EXITS))).toEqual(['Stopping', 'Stopped']);
  });

  it('writes the lines of the last turn when a worker thread exits in it', () => {
    const worker = pathToFileURL(script('worker.mts', LOGS_AND_EXITS)).href;
    // As runner/storage-thread.ts starts its worker: tsx registered in the thread, then the module.
    const main = script('main.mts', `
      import { Worker } from 'node:worker_threads';
      const start = 'import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); })';
      new Worker(start, { eval: true }).on('exit', () => console.log(JSON.stringify({ msg: 'worker ended' })));`);
    expect(runScript(main)).toEqual(['Stopping', 'Stopped', 'worker ended']);
  });

  it('never holds the thread for a reader without room: the lines wait, in order, and all arrive once it reads', async () => {
    const lineCount = (out: string) => out.split('\n').length - 1;
    // All 2,000 arrive before the process is told to exit: its retries wrote them, not its exit.
    const { out, code } = await withStalledReader(logs2000('turnLines(1)'), (text) => lineCount(text) === 2000);
    expect(code).toBe(0);
    expect(parsed(out).map((line) => line.n)).toEqual(Array.from({ length: 2000 }, (_, n) => n));
  });

  it('waits for room only in flushSync (pino calls it after fatal), never in a turn after it', async () => {
    // flushSync with nothing held starts the thread's 5 s wait budget; the turns after must not spend it.
    const { out, errors, code } = await withStalledReader(`
      const destination = turnLines(1);
      destination.flushSync();
      const started = Date.now();
      ${logs2000('destination')}
      writeSync(2, 'turns took ' + (Date.now() - started) + ' ms\\n');`, (text) => text.split('\n').length - 1 === 2000);
    expect(code).toBe(0);
    expect(parsed(out)).toHaveLength(2000);
    // About 0.1 s; a turn that waited for room would take the rest of the 5 s.
    expect(Number(/turns took (\d+) ms/.exec(errors)![1])).toBeLessThan(2_500);
  });

  it('drops lines past its limit while the reader has no room, and says how many in their place', async () => {
    const { out, code } = await withStalledReader(logs2000('turnLines(1, { maxHeldBytes: 64 * 1024 })'), (text) => text.length > 0);
    expect(code).toBe(0);
    const lines = parsed(out);
    const kept = lines.filter((line) => line.n !== undefined).map((line) => line.n!);
    const warnings = lines.filter((line) => line.dropped !== undefined);
    expect(warnings.length).toBeGreaterThan(0);
    for (const warning of warnings) expect(warning).toMatchObject({ msg: 'Log lines dropped: stdout was not read', level: 40, function: 'log' });
    // In order, and every line either written or counted in a warning.
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    expect(new Set(kept).size).toBe(kept.length);
    expect(kept.length + warnings.reduce((sum, warning) => sum + warning.dropped!, 0)).toBe(2000);
    expect(kept.length).toBeLessThan(2000);
  });

  it('drops, without an error, what the descriptor refuses (a full disk), and goes on', async () => {
    const full = openSync('/dev/full', 'w');
    try {
      const logger = createLogger('ingest', 'info', turnLines(full));
      for (let n = 0; n < 10; n++) logger.info({ n }, 'Enqueued event');
      await turnEnd();
      logger.info({ n: 10 }, 'Enqueued event');
      await turnEnd();
    } finally {
      closeSync(full);
    }
  });

  it('stops writing, without an error or a wait at exit, once its reader is gone', async () => {
    const { child, closed, output } = startScript('gone.mts', `
      const logger = createLogger('ingest', 'info', turnLines(1));
      await new Promise((resolve) => process.stdin.once('data', resolve));
      for (let turn = 0; turn < 5; turn++) {
        logger.info({ turn }, 'Enqueued event');
        await new Promise((resolve) => setImmediate(resolve));
      }
      logger.info('Stopping');
      const exiting = Date.now();
      // Runs after turnLines' own exit listener.
      process.on('exit', () => writeSync(2, 'exit took ' + (Date.now() - exiting) + ' ms\\n'));
      writeSync(2, 'still running\\n');
      process.exit(0);`);
    child.stdout.destroy();
    child.stdin.write('go\n');
    expect(await closed).toBe(0);
    expect(output.errors).toMatch(/^still running\nexit took \d+ ms\n$/);
    // Not the 5 s it waits for a reader that is there but has no room.
    expect(Number(/exit took (\d+) ms/.exec(output.errors)![1])).toBeLessThan(2_500);
  });
});
