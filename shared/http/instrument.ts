import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Metrics } from '../metrics/metrics.ts';

/**
 * Times every request into the duration histogram, labelled by function, route pattern (bounded) and status;
 * a request no route matched (a 404) is counted too, under the catch-all pattern.
 */
export function instrument(metrics: Metrics): MiddlewareHandler {
  return async function timeRequest(c, next) {
    const end = metrics.requestDuration.startTimer();
    await next();
    end({ function: metrics.function, route: routePath(c) || 'unmatched', status: String(c.res.status) });
  };
}

/** A middleware that does nothing: what an app uses where it has no metrics to record into. */
export const uninstrumented: MiddlewareHandler = async function passThrough(_c, next) {
  await next();
};
