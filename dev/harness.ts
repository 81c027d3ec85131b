import { pino } from 'pino';
import { createIngestApp } from '../functions/ingest/app.ts';
import { createProcessFunction } from '../functions/process/process-function.ts';
import { createStatsApp } from '../functions/stats/app.ts';
import { loadConfig, type Config } from '../shared/config/config.ts';
import { createMetrics } from '../shared/metrics/metrics.ts';
import { queueFromConfig } from '../shared/queue/queue.ts';
import { readinessOf } from '../shared/runtime/readiness.ts';
import { createTestDatabase, testRedis } from './services.ts';

/**
 * The three apps in-process over a real Redis (own key prefix) and a real
 * PostgreSQL (own database), for tests (and the bench's read-cost probe) that
 * call them with `app.request()`.
 *
 * @example const h = await createHarness('stats'); afterAll(h.cleanup)
 */
export async function createHarness(label: string, env: Record<string, string> = {}) {
  const database = await createTestDatabase(label);
  const r = testRedis(label);
  const config: Config = loadConfig({ QUEUE_PREFIX: r.prefix, QUEUE_LEASE_MS: '2000', ...env });
  const logger = pino({ level: 'silent' });
  const metrics = createMetrics();
  const queue = queueFromConfig(r.redis, config);
  const readiness = readinessOf({ redis: r.redis, db: database.db });
  const deps = { config, logger, metrics, queue, readiness, db: database.db };
  const processFunction = createProcessFunction(deps);
  return {
    ...deps,
    redis: r.redis,
    processBatch: processFunction.processBatch,
    ingest: createIngestApp(deps),
    process: processFunction.app,
    stats: createStatsApp(deps),
    startPoller: (workers = 2) => processFunction.startPoller(workers),
    cleanup: async () => {
      await r.cleanup();
      await database.drop();
    },
  };
}

export type Harness = Awaited<ReturnType<typeof createHarness>>;

/** A valid event, with fields overridden. */
export const event = (overrides: Record<string, unknown> = {}) => ({
  topic: 'orders',
  event_id: 'e-1',
  timestamp: '2026-11-25T08:00:00Z',
  source: 'checkout-svc',
  payload: { amount: 10 },
  ...overrides,
});

/** POST a JSON body to an app. */
export const postJson = (app: { request: (path: string, init: RequestInit) => Response | Promise<Response> }, path: string, body: unknown) =>
  app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
