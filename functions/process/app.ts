import { randomInt, randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import * as v from 'valibot';
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
import { count, errors, eventsBody, json, named } from '../../shared/openapi/responses.ts';
import { describeRoute } from '../../shared/openapi/route-doc.ts';
import type { EventQueue } from '../../shared/queue/queue.ts';
import type { ProcessBatch } from './batch-processor.ts';
import { StoreAbortedError } from './errors.ts';

export type ProcessDeps = {
  config: Config;
  queue: EventQueue;
  processBatch: ProcessBatch;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
};

const Processed = v.strictObject({
  processed: count('events in the request'),
  unique: count('events stored as the first of their key'),
  duplicates: count('events dropped as duplicates'),
  dead_lettered: count('events parked in the dead-letter list'),
});

/** How long the HTTP trigger waits for an unreachable PostgreSQL before it answers 503. */
const SYNC_STORE_PATIENCE_MS = 5_000;

/**
 * The process function's HTTP trigger: processes a request's events now and
 * answers with what became of them. The events go through the same leased
 * batch as the poller's, so a crash midway is recovered the same way.
 */
export function createProcessApp({ config, queue, processBatch, logger, metrics, readiness }: ProcessDeps) {
  const schema = eventSchema(config.limits);
  return new Hono({ strict: false })
    .use(instrument(metrics))
    .route('/', opsRoutes({ readiness, metrics }))
    .post('/', apiKey(config.ingestApiKeys), describeRoute({
      summary: 'store the events of the request now and say what became of them',
      events: eventsBody(schema),
      responses: {
        200: json('stored, dropped as duplicates, or dead-lettered', named('Processed', Processed)),
        429: errors.backpressure,
        503: errors.unavailable,
      },
    }), async (c) => {
      const events = await readEvents(c.req.raw, config.limits, schema);
      let claim;
      try {
        claim = await queue.enqueueClaimed({ id: randomUUID(), at: Date.now(), events }, config.leaseMs, config.limits.maxQueueLength);
      } catch (error) {
        throw unavailable('redis', error);
      }
      if (claim === 'full') throw backpressure(1);
      metrics.eventsReceived.inc(events.length);
      try {
        const result = await processBatch(claim, randomInt(config.counterShards), AbortSignal.timeout(SYNC_STORE_PATIENCE_MS));
        const processed: v.InferOutput<typeof Processed> = { processed: events.length, unique: result.unique, duplicates: result.duplicates, dead_lettered: result.deadLettered };
        return c.json(processed, 200);
      } catch (error) {
        // Already counted as received: the claim goes back to the queue and a poller stores it
        // (a claim processBatch gave up on is back already, and this finds no lease).
        await queue.release(claim.claimId).catch(() => undefined);
        if (error instanceof StoreAbortedError) throw unavailable(error.dependency, error);
        throw error;
      }
    })
    .onError(errorHandler(logger, metrics, { takesEvents: true }))
    .notFound(notFound);
}
