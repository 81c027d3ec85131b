import type { ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { AppError } from './errors.ts';

/**
 * Renders an AppError as the contract's JSON error; anything else becomes a
 * 500 that reveals nothing to the client and is logged in full.
 */
export function errorHandler(logger: Logger, metrics: Metrics): ErrorHandler {
  return function renderError(error, c) {
    if (error instanceof AppError) {
      metrics.eventsRejected.inc({ reason: error.code });
      if (error.status >= 500) logger.warn({ err: error.cause ?? error, code: error.code }, error.message);
      return c.json(error.toJSON(), error.status, error.headers);
    }
    if (error instanceof HTTPException && error.status < 500) {
      return c.json({ error: 'bad_request', message: error.message }, error.status);
    }
    logger.error({ err: error, path: c.req.path }, 'Unhandled error');
    return c.json({ error: 'internal', message: 'internal error' }, 500);
  };
}

// The path is the client's input: quoted only in part, so a 16 KiB URL is not sent back.
export const notFound: NotFoundHandler = (c) =>
  c.json({ error: 'not_found', message: `no route for ${c.req.method.slice(0, 16)} ${c.req.path.slice(0, 100)}` }, 404);
