import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { AppError } from './errors.ts';

/**
 * One info line for a request the service refused (a 4xx): the function (the logger's), the route
 * pattern, the status and the error code. Never the body, the query or the path: they are the client's input.
 */
export function logRefused(logger: Logger, refusal: { route: string; status: number; code: string }) {
  logger.info(refusal, 'Refused request');
}

// Only requests that carry events (the POST routes of ingest and process) count as rejected events:
// a 401 on /stats, or on a dead letter's replay, does not.
const carriesEvents = (c: Context) => c.req.method === 'POST';

/**
 * Renders an AppError as the contract's JSON error; anything else becomes a
 * 500 that reveals nothing to the client and is logged in full. `takesEvents`:
 * the app's POST routes carry events (ingest, process), so their refusals count
 * as rejected events.
 */
export function errorHandler(logger: Logger, metrics: Metrics, options: { takesEvents: boolean }): ErrorHandler {
  return function renderError(error, c) {
    if (error instanceof AppError) {
      if (options.takesEvents && carriesEvents(c)) metrics.eventsRejected.inc({ reason: error.code });
      if (error.status >= 500) logger.warn({ err: error.cause ?? error, code: error.code }, error.message);
      else logRefused(logger, { route: routePath(c), status: error.status, code: error.code });
      return c.json(error.toJSON(), error.status, error.headers);
    }
    if (error instanceof HTTPException && error.status < 500) {
      logRefused(logger, { route: routePath(c), status: error.status, code: 'bad_request' });
      return c.json({ error: 'bad_request', message: error.message }, error.status);
    }
    logger.error({ err: error, path: c.req.path }, 'Unhandled error');
    return c.json({ error: 'internal', message: 'internal error' }, 500);
  };
}

// The path is the client's input: quoted only in part, so a 16 KiB URL is not sent back.
export const notFound: NotFoundHandler = (c) =>
  c.json({ error: 'not_found', message: `no route for ${c.req.method.slice(0, 16)} ${c.req.path.slice(0, 100)}` }, 404);
