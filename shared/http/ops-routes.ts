import { Hono } from 'hono';
import * as v from 'valibot';
import type { Metrics } from '../metrics/metrics.ts';
import { described, json, named, text } from '../openapi/responses.ts';
import { describeRoute } from '../openapi/route-doc.ts';

/** Whether each dependency answers: `{ redis: true, postgres: false }`. */
export type Readiness = () => Promise<Record<string, boolean>>;

/** Whether each dependency answers, as /readyz and the stats function's /status say it. */
export const Dependencies = described(v.record(v.string(), v.boolean()), 'dependency name → whether it answers');

/** The bodies of /healthz and /readyz. */
const Health = named('Health', v.strictObject({ status: v.literal('ok') }));
const Readiness = named('Readiness', v.strictObject({
  status: v.picklist(['ready', 'unavailable']),
  dependencies: Dependencies,
  down: v.optional(v.pipe(v.array(v.string()), v.minLength(1))),
}));

/**
 * `/healthz` (the process lives), `/readyz` (its dependencies answer) and
 * `/metrics` (Prometheus text), mounted on every function.
 *
 * @example app.route('/', opsRoutes({ readiness, metrics }))
 */
export function opsRoutes(deps: { readiness: Readiness; metrics: Metrics }) {
  return new Hono()
    .get('/healthz', describeRoute({ summary: 'the process lives', responses: { 200: json('alive', Health) } }), (c) => c.json({ status: 'ok' as const } satisfies v.InferOutput<typeof Health>))
    .get('/readyz', describeRoute({
      summary: 'whether the dependencies this function uses answer',
      responses: { 200: json('every dependency answers', Readiness), 503: json('a dependency does not answer', Readiness) },
    }), async (c) => {
      const dependencies = await deps.readiness();
      const down = Object.entries(dependencies).filter(([, up]) => !up).map(([name]) => name);
      const body: v.InferOutput<typeof Readiness> = { status: down.length === 0 ? 'ready' : 'unavailable', dependencies, ...(down.length > 0 ? { down } : {}) };
      return c.json(body, down.length === 0 ? 200 : 503);
    })
    .get('/metrics', describeRoute({ summary: 'Prometheus metrics of this process', responses: { 200: text('Prometheus text format 0.0.4', 'text/plain') } }), async (c) => {
      c.header('Content-Type', deps.metrics.registry.contentType);
      return c.body(await deps.metrics.registry.metrics());
    });
}
