import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Metrics } from '../metrics/metrics.ts';

/**
 * Times every request into the duration histogram, labelled by function, route pattern (bounded) and status;
 * a request no route matched (a 404) is counted too, under the catch-all pattern.
 */
export function instrument(metrics: Metrics): MiddlewareHandler {
  return async function timeRequest(c, next) {
    // performance.now() rather than prom-client's startTimer, whose hrtime pairs, closures and label copies
    // were garbage on every request.
    const started = performance.now();
    await next();
    metrics.requestDuration.observe(
      { function: metrics.function, route: routePath(c) || 'unmatched', status: String(c.res.status) },
      (performance.now() - started) / 1000,
    );
  };
}

/** A middleware that does nothing: what an app uses where it has no metrics to record into. */
export const uninstrumented: MiddlewareHandler = function passThrough(_c, next) {
  return next();
};
