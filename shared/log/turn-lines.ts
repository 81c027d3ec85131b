import { writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import type { DestinationStream } from 'pino';

/**
 * The most one write(2) carries. On a pipe or FIFO (Docker's and containerd's stdout) POSIX makes a
 * write of up to PIPE_BUF (4096 bytes on Linux) go whole or not at all, so the lines of `npm start`'s
 * two threads, each writing fd 1, do not cut into each other. On a Unix stream socket (Node's 'pipe'
 * stdio, systemd's journal) Linux sends a write this small whole too, though no standard promises it;
 * a single line longer than this can always be cut.
 */
const MAX_WRITE = 4096;
/** How soon lines the reader had no room for are tried again. */
const RETRY_MS = 10;
/** At exit (or after pino's `fatal`), how long in all a thread waits for room before giving up what is left. */
const EXIT_WAIT_MS = 5_000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Errors after which nothing written to the descriptor would ever be read. */
const READER_GONE = new Set(['EPIPE', 'EBADF', 'ECONNRESET', 'ENOTCONN']);

export type TurnLines = DestinationStream & {
  /** Writes everything held now, waiting for a reader without room (5 s in all a thread); pino calls it after `fatal`. */
  flushSync(): void;
};

/**
 * A log destination on file descriptor `fd` that writes the lines of one event-loop turn together:
 * in one write(2) on this thread when the turn ends (in 4 KiB writes when it logs more), in the order
 * they were logged, and whatever is left when the thread or the process exits by process.exit() or
 * at its end. A worker thread ended by the main thread's exit, or a process killed outright (SIGKILL,
 * out of memory), loses what it held: its last turn, or more while the reader had no room.
 *
 * Why not pino.destination(fd): it hands every line, or the few logged while the last write was
 * out, to libuv's thread pool and back. At one `Enqueued event` line a request, that was a pool
 * thread's wake-up, a write and a wake-up back for nearly every one-event request: 3.2 system calls
 * and 0.54 context switches a request in `npm start`, against 2.8 and 0.38 written a turn at a time
 * (its CPU a request moved within what the machine's noise hides). And its buffer had no bound.
 *
 * It never holds the thread for a reader that has no room (a full pipe, a paused pager, a stalled log
 * collector): what is unwritten is kept, in order, and tried again every 10 ms; past `maxHeldBytes`
 * (16 MiB by default) lines are dropped and counted, and the next line taken (or the exit) is preceded
 * by a warning that says how many. A reader that is gone (EPIPE) ends the logging, as it does with
 * pino's own; any other write error (a full disk) drops the lines of that write, counted the same way.
 *
 * @example createLogger('ingest', 'info', turnLines(1))
 */
export function turnLines(fd: number, { maxHeldBytes = 16 * 1024 * 1024 } = {}): TurnLines {
  // Lines not yet written, from `head` on, with their sizes in bytes; `chunk` is what is being
  // written (whole lines, `chunkLines` of them, or the rest of them after a partial write).
  let lines: string[] = [];
  let sizes: number[] = [];
  let head = 0;
  let chunk: Buffer | null = null;
  let chunkLines = 0;
  let heldBytes = 0;
  let dropped = 0;
  let gone = false;
  let endOfTurn = false;
  let retry: NodeJS.Timeout | null = null;
  // The end of this thread's one wait for room (flushSync's only), once flushSync has begun it.
  let waitUntil: number | null = null;

  /** Once lines were dropped, a warning line in their place, in pino's shape, saying how many. */
  function sayDropped() {
    if (dropped === 0) return;
    const warning = `${JSON.stringify({ level: 40, time: new Date().toISOString(), function: 'log', msg: 'Log lines dropped: stdout was not read', dropped })}\n`;
    hold(warning, Buffer.byteLength(warning));
    dropped = 0;
  }

  function hold(line: string, size: number) {
    lines.push(line);
    sizes.push(size);
    heldBytes += size;
  }

  /** The next lines to write, at most MAX_WRITE bytes of them (or one longer line), or null. */
  function nextChunk(): Buffer | null {
    if (head === lines.length) return null;
    let end = head;
    let bytes = 0;
    while (end < lines.length && (end === head || bytes + sizes[end]! <= MAX_WRITE)) bytes += sizes[end++]!;
    const text = end - head === 1 ? lines[head]! : lines.slice(head, end).join('');
    chunkLines = end - head;
    head = end;
    // What was written is let go: at once when nothing is left, and in halves while a slow reader keeps some held.
    if (head === lines.length) {
      lines = [];
      sizes = [];
      head = 0;
    } else if (head > 1024 && head * 2 > lines.length) {
      lines = lines.slice(head);
      sizes = sizes.slice(head);
      head = 0;
    }
    return Buffer.from(text);
  }

  /** Writes what is held; on a full reader waits (when `mayWait`, until `waitUntil`), else tries again later. */
  function writeHeld(mayWait = false) {
    while (!gone && (chunk ??= nextChunk())) {
      let written: number;
      try {
        written = writeSync(fd, chunk);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (READER_GONE.has(code)) {
          gone = true;
          lines = [];
          sizes = [];
          head = 0;
          chunk = null;
          heldBytes = 0;
          return;
        }
        if (code !== 'EAGAIN') {
          // Nothing to wait for: these lines are lost, and said to be.
          heldBytes -= chunk.length;
          dropped += chunkLines;
          chunk = null;
          continue;
        }
        if (mayWait && Date.now() < waitUntil!) {
          Atomics.wait(pause, 0, 0, 1);
          continue;
        }
        // Unref'd: a process about to end writes the rest at exit rather than staying for them.
        retry ??= setTimeout(tryAgain, RETRY_MS).unref();
        return;
      }
      heldBytes -= written;
      chunk = written < chunk.length ? chunk.subarray(written) : null;
    }
  }

  function tryAgain() {
    retry = null;
    writeHeld();
  }

  function turnEnded() {
    endOfTurn = false;
    if (!retry) writeHeld();
  }

  function flushSync() {
    if (gone) return;
    if (retry) clearTimeout(retry);
    retry = null;
    waitUntil ??= Date.now() + EXIT_WAIT_MS;
    sayDropped();
    writeHeld(true);
    if (heldBytes > 0) {
      try {
        writeSync(2, `log: ${heldBytes} bytes of log lines not written: stdout was not read for ${EXIT_WAIT_MS / 1000} s\n`);
      } catch {
        // stderr is gone too: nothing left to tell.
      }
    }
  }
  // In a worker thread too: its process.exit() runs its own 'exit' listeners.
  process.on('exit', flushSync);
  // Node sets O_NONBLOCK on a stdout pipe or socket when it opens process.stdout (the flag belongs to
  // the pipe, so the storage thread's writes get it too): without it a full pipe would block write(2).
  if (fd === 1 && isMainThread) void process.stdout;

  return {
    write(line: string) {
      if (gone) return;
      const size = Buffer.byteLength(line);
      if (heldBytes + size > maxHeldBytes) {
        dropped += 1;
        return;
      }
      sayDropped();
      hold(line, size);
      if (retry) return; // the retry writes them, in order
      if (!endOfTurn) {
        endOfTurn = true;
        setImmediate(turnEnded);
      }
      // A turn that logs a lot writes as it goes, so that it holds little.
      if (heldBytes >= MAX_WRITE) writeHeld();
    },
    flushSync,
  };
}
