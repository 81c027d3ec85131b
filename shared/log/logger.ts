import { isatty } from 'node:tty';
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

let stdout: pino.DestinationStream | undefined;

/**
 * The one stdout stream of the process, shared by every logger in it (`npm start` has one a function):
 * readable lines when a person watches a terminal, JSON lines for everything else (files, pipes, collectors).
 */
function stdoutStream(): pino.DestinationStream {
  // File descriptor 1 rather than process.stdout: in a worker thread (npm start's storage thread)
  // process.stdout is a relay through the main thread, while fd 1 is the process's own terminal or pipe.
  stdout ??= isatty(1)
    ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', messageFormat: '{function}: {msg}', ignore: 'pid,hostname,function', sync: true, destination: 1 })
    : pino.destination(1);
  return stdout;
}

/**
 * A structured logger whose every line names the function that wrote it.
 *
 * @example createLogger('ingest', 'info').info({ batch_id, events: 3 }, 'Enqueued event')
 */
export function createLogger(functionName: string, level: string, destination: pino.DestinationStream = stdoutStream()): Logger {
  return pino(
    {
      level,
      base: { function: functionName },
      timestamp: pino.stdTimeFunctions.isoTime,
      // API keys travel in these headers; they must never reach a log line.
      redact: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.headers.authorization', '*.headers["x-api-key"]'],
    },
    destination,
  );
}

