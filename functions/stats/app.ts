import { Hono } from 'hono';
import type * as v from 'valibot';
import type { Config } from '../../shared/config/config.ts';
import type { Db } from '../../shared/db/database.ts';
import { busiestTopics, readTotals, topicsByName } from '../../shared/db/counter.repository.ts';
import { listEvents } from '../../shared/db/event-read.repository.ts';
import { apiKey } from '../../shared/http/api-key.ts';
import { errorHandler, notFound } from '../../shared/http/error-handler.ts';
import { AppError, invalidQuery, unavailable } from '../../shared/http/errors.ts';
import { parseQuery } from '../../shared/http/parse-query.ts';
import { instrument } from '../../shared/http/instrument.ts';
import { opsRoutes, type Readiness } from '../../shared/http/ops-routes.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { Metrics } from '../../shared/metrics/metrics.ts';
import { functionDocument, openApiRoute } from '../../shared/openapi/document.ts';
import { errors, json, text } from '../../shared/openapi/responses.ts';
import { describeRoute } from '../../shared/openapi/route-doc.ts';
import { findLetter, listLetters, viewOf } from '../../shared/queue/dead-letter-view.ts';
import type { EventQueue } from '../../shared/queue/queue.ts';
import { decodeCursor, decodeTopicCursor, encodeCursor, encodeTopicCursor } from './cursor.ts';
import { dashboardPage } from './dashboard/dashboard-page.ts';
import { DeadLetterDone, DeadLetterPage, eventPage, QueueStatus, Stats } from './bodies.ts';
import { deadLettersQuery, eventsQuery, statsQuery } from './query.ts';

export type StatsDeps = {
  config: Config; db: Db; queue: EventQueue; logger: Logger; metrics: Metrics; readiness: Readiness;
  /** Where GET /events reads (DATABASE_READ_URL, a replica that may lag); the counters stay on `db`. Default: `db`. */
  readDb?: Db;
};

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
  const eventsParameters = eventsQuery(config.limits);

  const requireKey = apiKey(config.readApiKeys);
  // Replaying or dropping a dead letter changes what gets stored: that takes a key that may publish.
  const requireIngestKey = apiKey(config.ingestApiKeys);

  /**
   * The counters. The totals come from one row per counter shard; `topics` is
   * either the busiest first (a bounded read of an index) or a page in name
   * order, so the cost never depends on how many topics exist.
   */
  async function stats(query: Record<string, string[]>): Promise<v.InferOutput<typeof Stats>> {
    const { topics_limit: limit, topics_order: order, topics_after: after } = parseQuery(statsQuery, query);
    if (after !== undefined && order !== 'name') throw invalidQuery('topics_after pages the topics in name order: add topics_order=name', 'topics_after');
    const afterTopic = after === undefined ? '' : decodeTopicCursor(after);
    if (afterTopic === null) throw invalidQuery('topics_after is not a cursor this service gave out', 'topics_after');
    // Redis first, PostgreSQL after: a batch is committed before it is acknowledged, so counters read
    // once Redis said `pending: 0` hold every commit, and a quiet system's answer meets the invariant
    // exactly. Read side by side, PostgreSQL's could predate the last commit that Redis already counted.
    const redis = await from('redis', queue.counters());
    const topicsRead = order === 'busiest'
      ? busiestTopics(db, limit).then((topics) => ({ topics, more: false }))
      : topicsByName(db, { after: afterTopic, limit });
    const [totals, topics] = await Promise.all([from('postgres', readTotals(db)), from('postgres', topicsRead)]);
    const last = topics.topics.at(-1);
    return {
      received: redis.received,
      unique_processed: totals.uniqueProcessed,
      duplicate_dropped: totals.duplicateDropped,
      pending: redis.pending,
      dead_lettered: redis.deadLettered,
      topics: topics.topics,
      // Only name order pages: the busiest list is a ranking of the moment, not a stable sequence.
      ...(order === 'name' ? { topics_next_cursor: topics.more && last ? encodeTopicCursor(last.topic) : null } : {}),
      uptime_seconds: Math.round(process.uptime() * 10) / 10,
    };
  }

  /**
   * Replays or drops one dead letter, named by its id. The id is the client's input: it is
   * neither logged nor echoed, and one that is not a letter id is simply not found.
   */
  async function act(action: 'replay' | 'drop', id: string): Promise<v.InferOutput<typeof DeadLetterDone>> {
    const letter = await from('redis', findLetter(queue, id));
    // The letter may leave between the read and the change (another operator, the CLI): not found either way.
    const done = letter !== null && (await from('redis', action === 'replay' ? queue.replay(letter) : queue.drop(letter)));
    if (!letter || !done) throw new AppError(404, 'not_found', 'no dead letter has this id (GET /dead-letters lists them)');
    const view = viewOf(letter);
    logger.info({ dead_letter: view.id, batch_ids: view.batch_ids, events: view.events }, action === 'replay' ? 'Dead letter replayed' : 'Dead letter dropped');
    return { done: action === 'replay' ? 'replayed' : 'dropped', dead_letter: view };
  }

  const statsRoute = (summary: string) => describeRoute({ summary, query: statsQuery, responses: { 200: json('the counters', Stats), 503: errors.unavailable } });
  const letterRoute = (summary: string) => describeRoute({
    summary,
    params: { id: 'the id GET /dead-letters gave' },
    responses: { 200: json('done', DeadLetterDone), 404: errors.notFound, 503: errors.unavailable },
  });

  const app = new Hono({ strict: false })
    .use(instrument(metrics))
    .route('/', opsRoutes({ readiness, metrics }))
    .get('/', requireKey, statsRoute('the counters'), async (c) => c.json(await stats(c.req.queries())))
    .get('/stats', requireKey, statsRoute('the counters, at their alias'), async (c) => c.json(await stats(c.req.queries())))
    .get('/events', requireKey, describeRoute({
      summary: 'stored unique events, oldest stored first (or newest first); the filters combine',
      query: eventsParameters,
      responses: { 200: json('a page of events', eventPage(config.limits)), 503: errors.unavailable },
    }), async (c) => {
      const { after, limit, order, event_id: eventId, ...filter } = parseQuery(eventsParameters, c.req.queries());
      const afterSeq = after === undefined ? null : decodeCursor(after);
      if (afterSeq === null && after !== undefined) throw invalidQuery('after is not a cursor this service gave out', 'after');
      const page = await from('postgres', listEvents(readDb, { ...filter, eventId, order, afterSeq, limit }));
      return c.json({ events: page.events, next_cursor: page.nextSeq === null ? null : encodeCursor(page.nextSeq) });
    })
    .get('/dead-letters', requireKey, describeRoute({
      summary: 'the dead letters, newest first: why each was parked, its size and its first keys',
      query: deadLettersQuery,
      responses: { 200: json('the newest letters and how many there are', DeadLetterPage), 503: errors.unavailable },
    }), async (c) => {
      const { limit } = parseQuery(deadLettersQuery, c.req.queries());
      const { letters, total } = await from('redis', listLetters(queue, limit));
      const page: v.InferOutput<typeof DeadLetterPage> = { dead_letters: letters, total };
      return c.json(page);
    })
    .post('/dead-letters/:id/replay', requireIngestKey, letterRoute('put the letter back in the queue: its events are pending again, then stored'),
      async (c) => c.json(await act('replay', c.req.param('id'))))
    .post('/dead-letters/:id/drop', requireIngestKey, letterRoute('delete the letter for good: its events stay counted in dead_lettered'),
      async (c) => c.json(await act('drop', c.req.param('id'))))
    // For the dashboard: it answers while a dependency is down, so the page can say which one.
    .get('/status', requireKey, describeRoute({
      summary: 'queue depth and whether each dependency answers, for the dashboard',
      responses: { 200: json('answers even while a dependency is down', QueueStatus) },
    }), async (c) => {
      const [dependencies, depth] = await Promise.all([readiness(), queue.depth().catch(() => null)]);
      const status: v.InferOutput<typeof QueueStatus> = {
        queue: depth && { messages: depth.queuedMessages, batches_in_flight: depth.batchesInFlight },
        dependencies,
      };
      return c.json(status);
    })
    // The page holds no data, so it needs no key; it asks for one when /stats wants it.
    .get('/dashboard', describeRoute({
      summary: 'the live dashboard, one self-contained page (it asks for the read key when one is needed)',
      responses: { 200: text('the page', 'text/html') },
    }), (c) => c.html(dashboardPage.html, 200, dashboardPage.headers))
    .get('/openapi.json', describeRoute(openApiRoute), (c) => c.json(document))
    .onError(errorHandler(logger, metrics, { takesEvents: false }))
    .notFound(notFound);
  const document = functionDocument('stats', app);
  return app;
}
