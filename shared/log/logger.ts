import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * A JSON logger whose every line names the function that wrote it.
 *
 * @example createLogger('ingest', 'info').info({ batch_id, events: 3 }, 'Enqueued event')
 */
export function createLogger(functionName: string, level: string, destination?: pino.DestinationStream): Logger {
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
