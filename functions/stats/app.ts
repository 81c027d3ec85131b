import { Hono } from 'hono';
import * as v from 'valibot';
import type { Config } from '../../shared/config/config.ts';
import type { Db } from '../../shared/db/database.ts';
import { readCounters } from '../../shared/db/counter.repository.ts';
import { listEvents } from '../../shared/db/event.repository.ts';
import { eventSchema } from '../../shared/event/event.schema.ts';
import { apiKey } from '../../shared/http/api-key.ts';
import { errorHandler, notFound } from '../../shared/http/error-handler.ts';
import { invalidQuery, unavailable } from '../../shared/http/errors.ts';
import { instrument } from '../../shared/http/instrument.ts';
import { opsRoutes, type Readiness } from '../../shared/http/ops-routes.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { Metrics } from '../../shared/metrics/metrics.ts';
import { functionDocument } from '../../shared/openapi/document.ts';
import type { EventQueue } from '../../shared/queue/queue.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { dashboardPage } from './dashboard/dashboard-page.ts';

export type StatsDeps = {
  config: Config; db: Db; queue: EventQueue; logger: Logger; metrics: Metrics; readiness: Readiness;
  /** Where GET /events reads (DATABASE_READ_URL, a replica that may lag); the counters stay on `db`. Default: `db`. */
  readDb?: Db;
};

const MAX_PAGE = 1000;

/** Reads that fail because a dependency is away answer 503, naming it. */
async function from<T>(dependency: 'redis' | 'postgres', read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    throw unavailable(dependency, error);
  }
}

/** The stats function: the counters of the contract, the stored events, and what operators look at. */
export function createStatsApp({ config, db, queue, logger, metrics, readiness, readDb = db }: StatsDeps) {
  const topicRule = eventSchema(config.limits).entries.topic;
  const EventsQuery = v.object({
    topic: v.optional(topicRule),
    limit: v.optional(
      v.pipe(v.string(), v.regex(/^\d{1,4}$/, 'limit must be a whole number'), v.transform(Number), v.minValue(1, 'limit must be at least 1'), v.maxValue(MAX_PAGE, `limit must be at most ${MAX_PAGE}`)),
      '100',
    ),
    after: v.optional(v.string()),
  });

  const requireKey = apiKey(config.readApiKeys);
  const document = functionDocument('stats', config.limits);

  async function stats() {
    const [pg, redis] = await Promise.all([from('postgres', readCounters(db)), from('redis', queue.counters())]);
    return {
      received: redis.received,
      unique_processed: pg.uniqueProcessed,
      duplicate_dropped: pg.duplicateDropped,
      pending: redis.pending,
      dead_lettered: redis.deadLettered,
      topics: pg.topics,
      uptime_seconds: Math.round(process.uptime() * 10) / 10,
    };
  }

  return new Hono({ strict: false })
    .use(instrument(metrics))
    .route('/', opsRoutes({ readiness, metrics }))
    .get('/', requireKey, async (c) => c.json(await stats()))
    .get('/stats', requireKey, async (c) => c.json(await stats()))
    .get('/events', requireKey, async (c) => {
      const parsed = v.safeParse(EventsQuery, c.req.query());
      if (!parsed.success) throw invalidQuery(parsed.issues[0]?.message ?? 'invalid query');
      const { topic, limit, after } = parsed.output;
      const afterSeq = after === undefined ? '0' : decodeCursor(after);
      if (afterSeq === null) throw invalidQuery('after is not a cursor this service gave out');
      const page = await from('postgres', listEvents(readDb, { topic, afterSeq, limit }));
      return c.json({ events: page.events, next_cursor: page.nextSeq === null ? null : encodeCursor(page.nextSeq) });
    })
    // For the dashboard: it answers while a dependency is down, so the page can say which one.
    .get('/status', requireKey, async (c) => {
      const [dependencies, depth] = await Promise.all([readiness(), queue.depth().catch(() => null)]);
      const queueDepth = depth && { messages: depth.queuedMessages, batches_in_flight: depth.batchesInFlight };
      return c.json({ queue: queueDepth, dependencies });
    })
    // The page holds no data, so it needs no key; it asks for one when /stats wants it.
    .get('/dashboard', (c) => c.html(dashboardPage.html, 200, dashboardPage.headers))
    .get('/openapi.json', (c) => c.json(document))
    .onError(errorHandler(logger, metrics))
    .notFound(notFound);
}
