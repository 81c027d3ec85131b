import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Metrics } from '../metrics/metrics.ts';

/** Times every request into the duration histogram, labelled by route pattern (bounded) and status. */
export function instrument(metrics: Metrics): MiddlewareHandler {
  return async function timeRequest(c, next) {
    const end = metrics.requestDuration.startTimer();
    await next();
    end({ route: routePath(c) || 'unmatched', status: String(c.res.status) });
  };
}
