import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { AppError } from './errors.ts';

/** A refused request as its log line has it; `dependency` and `err` for a 5xx, what failed on the service's side. */
type Refusal = { route: string; status: number; code: string; dependency?: string; err?: string; stack?: string | undefined };

/**
 * One line for a request the service refused: the function (the logger's), the route pattern, the
 * status and the error code; info for a 4xx (the client's doing), warn for a 5xx (a dependency away),
 * which also names the dependency and its error's message. Never the body, the query or the path:
 * they are the client's input.
 *
 * @example logRefused(logger, { route: '/publish', status: 401, code: 'unauthorized' })
 */
export function logRefused(logger: Logger, refusal: Refusal) {
  if (refusal.status >= 500) logger.warn(refusal, 'Refused request');
  else logger.info(refusal, 'Refused request');
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * A 5xx AppError's refusal line. No stack: while Redis fails over, every request is refused for the
 * same reason, and a stack a request buried the one fact an operator needs (hundreds of lines for one
 * outage). At debug level the cause follows in full, for the rare 503 whose cause is a bug.
 */
function logOutage(logger: Logger, route: string, error: AppError) {
  const dependency = error.body.dependency;
  const cause = error.cause ?? error;
  logRefused(logger, {
    route, status: error.status, code: error.code,
    ...(typeof dependency === 'string' ? { dependency } : {}),
    err: messageOf(cause),
    // A dependency's clients fail with their own errors; a TypeError and its kin are our bug, wrapped as
    // an outage by a handler that turns any failure of its call into a 503: that one keeps its stack.
    ...(isProgrammingError(cause) ? { stack: cause.stack } : {}),
  });
  if (logger.isLevelEnabled('debug')) logger.debug({ err: cause, route }, 'Refused request: its cause');
}

const isProgrammingError = (error: unknown): error is Error =>
  error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError || error instanceof SyntaxError;

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
      if (error.status >= 500) logOutage(logger, routePath(c), error);
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
