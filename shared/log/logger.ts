import { isatty } from 'node:tty';
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { turnLines } from './turn-lines.ts';

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
    : turnLines(1);
  return stdout;
}

/** The request headers that carry API keys: they must never reach a log line. */
const SECRET_HEADERS = ['authorization', 'x-api-key'] as const;
// pino's own word for it, which these lines used before.
const REDACTED = '[Redacted]';

const holdsSecret = (value: unknown): value is { headers: Record<string, unknown> } => {
  const headers = (value as { headers?: unknown } | null)?.headers;
  return typeof headers === 'object' && headers !== null && SECRET_HEADERS.some((name) => name in headers);
};

/** `value` with its secret headers censored, on a copy of the same prototype, so that an error still logs as one. */
function censored(value: { headers: Record<string, unknown> }): object {
  const headers = { ...value.headers };
  for (const name of SECRET_HEADERS) if (name in headers) headers[name] = REDACTED;
  // Every property but `headers`, which may be frozen, read-only or a getter in the original.
  const { headers: _original, ...properties } = Object.getOwnPropertyDescriptors(value);
  return Object.defineProperty(Object.create(Object.getPrototypeOf(value), properties), 'headers', { value: headers, enumerable: true });
}

/**
 * A log line's fields with the secret headers of any of them
 * (`req.headers.authorization`, `err.headers["x-api-key"]`, ...) censored, on copies: the caller's
 * objects are left as they are. pino's own `redact` does this too, but parses its paths and clones
 * on every line, which cost a one-event request about 4 KB of garbage for a line that holds no headers.
 * A field it cannot copy is logged as censored whole: a log call never throws, nor leaks.
 */
export function redactSecrets(fields: Record<string, unknown>): Record<string, unknown> {
  let redacted: Record<string, unknown> | undefined;
  for (const key in fields) {
    const value = fields[key];
    let copy: unknown;
    try {
      if (!holdsSecret(value)) continue;
      copy = censored(value);
    } catch {
      copy = REDACTED;
    }
    (redacted ??= { ...fields })[key] = copy;
  }
  return redacted ?? fields;
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
      // Only the fields of each line: pino gives a child logger's bindings no formatter, so a child
      // must never be bound to headers (none is, here).
      formatters: { log: redactSecrets },
    },
    destination,
  );
}

