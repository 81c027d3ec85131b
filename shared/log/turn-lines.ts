import { pino } from 'pino';

/**
 * Gathers up to this much before writing mid-turn, so a turn that logs a lot holds little.
 * sonic-boom requires it below its largest write (16 KiB).
 */
const GATHER_BYTES = 8 * 1024;

/**
 * A log destination on file descriptor `fd` that writes the lines of one event-loop turn together:
 * one write(2) on this thread as the turn ends (sooner once 8 KiB gather), in the order they were
 * logged, and the rest when the thread or the process exits.
 *
 * Why not pino.destination(fd): it hands every line, or the few logged while the last write was
 * out, to libuv's thread pool and back. At one `Enqueued event` line a one-event request that was
 * a pool thread's wake-up, a write and a wake-up back for nearly every request (3.2 system calls and
 * 0.5 context switches a request in `npm start`, against 2.75 and 0.4 with this). A line is still
 * out before the thread takes another turn, so a crash loses at most the turn it died in. The price
 * is the one `console.log` pays: a reader that stops reading holds the thread once the pipe is full.
 *
 * @example createLogger('ingest', 'info', turnLines(1))
 */
export function turnLines(fd: number): pino.DestinationStream {
  // Synchronous with a minimum length: write() only gathers until GATHER_BYTES; flush() writes the rest.
  const sonic = pino.destination({ dest: fd, sync: true, minLength: GATHER_BYTES });
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    sonic.flush();
  };
  // In a worker thread too: its process.exit() runs its own 'exit' listeners.
  process.on('exit', flush);
  return {
    write(line: string) {
      sonic.write(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  };
}
