import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { Config } from '../../shared/config/config.ts';
import { eventSchema } from '../../shared/event/event.schema.ts';
import { apiKey } from '../../shared/http/api-key.ts';
import { errorHandler, notFound } from '../../shared/http/error-handler.ts';
import { backpressure, unavailable } from '../../shared/http/errors.ts';
import { instrument } from '../../shared/http/instrument.ts';
import { opsRoutes, type Readiness } from '../../shared/http/ops-routes.ts';
import { readEvents } from '../../shared/http/read-events.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { Metrics } from '../../shared/metrics/metrics.ts';
import type { EventQueue } from '../../shared/queue/queue.ts';

export type IngestDeps = { config: Config; queue: EventQueue; logger: Logger; metrics: Metrics; readiness: Readiness };

/**
 * The ingest function: validates a request's events, all or none, and pushes
 * them as one queue message; 202 only once Redis has it.
 */
export function createIngestApp({ config, queue, logger, metrics, readiness }: IngestDeps) {
  const schema = eventSchema(config.limits);

  async function publish(c: Context) {
    const events = await readEvents(c.req.raw, config.limits, schema);
    const batchId = randomUUID();
    let outcome: 'queued' | 'full';
    try {
      outcome = await queue.enqueue({ id: batchId, at: Date.now(), events }, config.limits.maxQueueLength);
    } catch (error) {
      throw unavailable('redis', error);
    }
    if (outcome === 'full') throw backpressure(1);
    metrics.eventsAccepted.inc(events.length);
    metrics.eventsReceived.inc(events.length);
    logger.info({ batch_id: batchId, events: events.length }, 'Enqueued event');
    if (logger.isLevelEnabled('debug')) {
      for (const e of events) logger.debug({ batch_id: batchId, topic: e.topic, event_id: e.event_id }, 'Enqueued event');
    }
    return c.json({ accepted: events.length, batch_id: batchId }, 202);
  }

  const requireKey = apiKey(config.ingestApiKeys);
  return new Hono({ strict: false })
    .use(instrument(metrics))
    .route('/', opsRoutes({ readiness, metrics }))
    .post('/', requireKey, publish)
    .post('/publish', requireKey, publish)
    .onError(errorHandler(logger, metrics))
    .notFound(notFound);
}
