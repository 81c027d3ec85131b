import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import type { Config } from '../../shared/config/config.ts';
import { eventSchema } from '../../shared/event/event.schema.ts';
import { apiKey } from '../../shared/http/api-key.ts';
import { errorHandler, notFound } from '../../shared/http/error-handler.ts';
import { backpressure, unavailable } from '../../shared/http/errors.ts';
import { instrument } from '../../shared/http/instrument.ts';
import { opsRoutes, type Readiness } from '../../shared/http/ops-routes.ts';
import { parseQuery } from '../../shared/http/parse-query.ts';
import { readEvents } from '../../shared/http/read-events.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { Metrics } from '../../shared/metrics/metrics.ts';
import { count, described, errors, eventsBody, json, named } from '../../shared/openapi/responses.ts';
import { describeRoute } from '../../shared/openapi/route-doc.ts';
import { OutcomeWaiter, type EventStatus, type PendingOutcome } from '../../shared/queue/outcomes.ts';
import type { EventQueue } from '../../shared/queue/queue.ts';
import { confirmReplicated } from './replica-ack.ts';

export type IngestDeps = {
  config: Config; queue: EventQueue; logger: Logger; metrics: Metrics; readiness: Readiness;
  /** Where `?wait=true` learns outcomes; made over the queue's client when not given (its owner closes it on stop). */
  outcomes?: OutcomeWaiter;
};

/**
 * The query of a publish: only `wait`, `true` or `false`. Anything else is
 * refused, as on GET /events: a mistyped `?wiat=true` must not silently answer
 * 202 to a publisher that meant to wait.
 */
const PublishQuery = v.object({
  wait: v.optional(described(
    v.picklist(['true', 'false'], 'wait must be true or false'),
    'true: answer 200 once every event is stored or dropped as a duplicate, or 202 after WAIT_TIMEOUT_MS (the events stay queued). No other parameter is accepted.',
  ), 'false'),
});

const Accepted = v.strictObject({ accepted: count('events queued'), batch_id: v.string() });
const Confirmed = v.strictObject({
  ...Accepted.entries,
  stored: count('events stored as the first of their key'),
  duplicates: count('events dropped as duplicates, of earlier events or of one before them in the request'),
  results: described(v.array(v.strictObject({ status: v.picklist(['stored', 'duplicate']) })), 'one entry per event, in request order'),
});

const statusCount = (results: EventStatus[], status: EventStatus) => results.filter((r) => r === status).length;

/**
 * The ingest function: validates a request's events, all or none, and pushes
 * them as one queue message; 202 only once Redis has it (and, with
 * REDIS_MIN_REPLICAS_ACK, that many of its replicas). With `?wait=true` it
 * then waits, up to WAIT_TIMEOUT_MS, to answer 200 with what became of each event.
 */
export function createIngestApp({ config, queue, logger, metrics, readiness, outcomes = new OutcomeWaiter(queue.redis, queue.prefix) }: IngestDeps) {
  const schema = eventSchema(config.limits);

  async function publish(c: Context) {
    const wait = parseQuery(PublishQuery, c.req.queries()).wait === 'true';
    const events = await readEvents(c.req.raw, config.limits, schema);
    const batchId = randomUUID();
    let outcome: 'queued' | 'full';
    let pending: PendingOutcome | null = null;
    try {
      // Marked as waited on before it is queued: its outcome cannot come before anyone listens.
      if (wait) pending = await outcomes.expect(batchId, config.waitTimeoutMs);
      outcome = await queue.enqueue({ id: batchId, at: Date.now(), events }, config.limits.maxQueueLength);
    } catch (error) {
      await pending?.cancel();
      throw unavailable('redis', error);
    }
    if (outcome === 'full') {
      await pending?.cancel();
      throw backpressure(1);
    }
    if (config.redisMinReplicasAck > 0) {
      try {
        await confirmReplicated(queue.redis, queue.shardFor(batchId).keys.queue, config.redisMinReplicasAck, config.redisReplicaAckTimeoutMs);
      } catch (error) {
        await pending?.cancel();
        logger.warn({ batch_id: batchId, events: events.length, err: String(error) }, 'Not confirmed by Redis replicas; answered 503');
        throw error;
      }
    }
    metrics.eventsAccepted.inc(events.length);
    metrics.eventsReceived.inc(events.length);
    logger.info({ batch_id: batchId, events: events.length }, 'Enqueued event');
    if (logger.isLevelEnabled('debug')) {
      for (const e of events) logger.debug({ batch_id: batchId, topic: e.topic, event_id: e.event_id }, 'Enqueued event');
    }
    const accepted: v.InferOutput<typeof Accepted> = { accepted: events.length, batch_id: batchId };
    if (!wait) return c.json(accepted, 202);

    const started = performance.now();
    const results = pending ? await pending.settle(config.waitTimeoutMs) : null;
    const waitedMs = Math.round(performance.now() - started);
    if (results === null) {
      logger.info({ batch_id: batchId, waited_ms: waitedMs, listening: pending !== null }, 'Not stored within the wait; answered 202');
      return c.json(accepted, 202);
    }
    const stored = statusCount(results, 'stored');
    const duplicates = statusCount(results, 'duplicate');
    logger.info({ batch_id: batchId, stored, duplicates, waited_ms: waitedMs }, 'Confirmed stored to the publisher');
    const confirmed: v.InferOutput<typeof Confirmed> = { ...accepted, stored, duplicates, results: results.map((status) => ({ status })) };
    return c.json(confirmed, 200);
  }

  const requireKey = apiKey(config.ingestApiKeys);
  const publishRoute = (summary: string) => describeRoute({
    summary,
    query: PublishQuery,
    events: eventsBody(schema),
    responses: {
      200: json('wait=true: every event of the request is stored or dropped as a duplicate', named('Confirmed', Confirmed)),
      202: json('every event of the request is in the queue (with wait=true: not yet all stored after WAIT_TIMEOUT_MS)', named('Accepted', Accepted)),
      429: errors.backpressure,
      503: errors.unavailable,
    },
  });
  return new Hono({ strict: false })
    .use(instrument(metrics))
    .route('/', opsRoutes({ readiness, metrics }))
    .post('/', requireKey, publishRoute('queue the events of the request, all or none'), publish)
    .post('/publish', requireKey, publishRoute('the same, at its alias'), publish)
    .onError(errorHandler(logger, metrics, { takesEvents: true }))
    .notFound(notFound);
}
