import { Hono } from 'hono';
import type { Metrics } from '../metrics/metrics.ts';

/** Whether each dependency answers: `{ redis: true, postgres: false }`. */
export type Readiness = () => Promise<Record<string, boolean>>;

/**
 * `/healthz` (the process lives), `/readyz` (its dependencies answer) and
 * `/metrics` (Prometheus text), mounted on every function.
 *
 * @example app.route('/', opsRoutes({ readiness, metrics }))
 */
export function opsRoutes(deps: { readiness: Readiness; metrics: Metrics }) {
  return new Hono()
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      const dependencies = await deps.readiness();
      const down = Object.entries(dependencies).filter(([, up]) => !up).map(([name]) => name);
      const body = { status: down.length === 0 ? 'ready' : 'unavailable', dependencies, ...(down.length > 0 ? { down } : {}) };
      return c.json(body, down.length === 0 ? 200 : 503);
    })
    .get('/metrics', async (c) => {
      c.header('Content-Type', deps.metrics.registry.contentType);
      return c.body(await deps.metrics.registry.metrics());
    });
}
