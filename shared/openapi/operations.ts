import { errorBody, errorFields, ref, type JsonSchema } from './body-schemas.ts';

export type FunctionName = 'ingest' | 'process' | 'stats';

type Response = { description: string; headers?: Record<string, JsonSchema>; content: Record<string, { schema: JsonSchema }> };

export type Operation = {
  operationId: string;
  summary: string;
  tags: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: JsonSchema[];
  requestBody?: JsonSchema;
  responses: Record<string, Response>;
};

/** path → method → operation, as under `paths` of an OpenAPI document. */
export type Paths = Record<string, Partial<Record<'get' | 'post', Operation>>>;

const json = (description: string, schema: JsonSchema, headers?: Record<string, JsonSchema>): Response => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema } },
});
const text = (description: string, mediaType: string): Response => ({ description, content: { [mediaType]: { schema: { type: 'string' } } } });
const header = (description: string, schema: JsonSchema): JsonSchema => ({ description, required: true, schema });
const retryAfter = { 'Retry-After': header('seconds to wait before retrying', { type: 'string', pattern: '^\\d+$' }) };

const errors = {
  badBody: json('the body is not JSON or NDJSON, an event breaks a rule, there is no event, or the body stopped short', errorBody(
    ['invalid_json', 'validation_failed', 'empty_batch', 'invalid_encoding', 'incomplete_body'], {}, { details: errorFields.details },
  )),
  badQuery: json('a query parameter is unknown, repeated or breaks its rule', errorBody(['invalid_query'], { parameter: errorFields.parameter })),
  badPublish: json('the body is not JSON or NDJSON, an event breaks a rule, there is no event, the body stopped short, or the query is not just wait=true|false', errorBody(
    ['invalid_json', 'validation_failed', 'empty_batch', 'invalid_encoding', 'incomplete_body', 'invalid_query'], {}, { details: errorFields.details, parameter: errorFields.parameter },
  )),
  unauthorized: json('a key is required and was missing or wrong', errorBody(['unauthorized']), {
    'WWW-Authenticate': header('the scheme to use', { const: 'Bearer' }),
  }),
  tooLarge: json('more events than MAX_EVENTS_PER_REQUEST, or a body over MAX_BODY_BYTES (after gunzip too)', errorBody(['too_large'], { limit: errorFields.limit })),
  mediaType: json('a content type or encoding other than those listed', errorBody(['unsupported_media_type'])),
  backpressure: json('the queue holds MAX_QUEUE_LENGTH pending events: retry later', errorBody(['backpressure']), retryAfter),
  notFound: json('no dead letter has this id (any more)', errorBody(['not_found'])),
  unavailable: json('Redis or PostgreSQL does not answer; nothing of the request was kept', errorBody(['unavailable'], { dependency: errorFields.dependency }), retryAfter),
};

const eventsBody = {
  required: true,
  description: 'Content-Encoding: gzip is accepted',
  content: {
    'application/json': { schema: ref('EventBatch') },
    'application/x-ndjson': { schema: { type: 'string', description: 'one event per line' } },
  },
};

// The routes that read data take a key only when READ_API_KEYS (or INGEST_API_KEYS) is set: `{}` means none.
const keyed: Array<Record<string, string[]>> = [{ bearer: [] }, { apiKey: [] }, {}];

function opsPaths(tag: string): Paths {
  return {
    '/healthz': { get: { operationId: 'healthz', summary: 'the process lives', tags: [tag], responses: { 200: json('alive', ref('Health')) } } },
    '/readyz': {
      get: {
        operationId: 'readyz',
        summary: 'whether the dependencies this function uses answer',
        tags: [tag],
        responses: { 200: json('every dependency answers', ref('Readiness')), 503: json('a dependency does not answer', ref('Readiness')) },
      },
    },
    '/metrics': {
      get: { operationId: 'metrics', summary: 'Prometheus metrics of this process', tags: [tag], responses: { 200: text('Prometheus text format 0.0.4', 'text/plain') } },
    },
  };
}

function ingestPaths(): Paths {
  const publish = (operationId: string, summary: string): Operation => ({
    operationId,
    summary,
    tags: ['ingest'],
    security: keyed,
    parameters: [{
      name: 'wait',
      in: 'query',
      required: false,
      description: 'true: answer 200 once every event is stored or dropped as a duplicate, or 202 after WAIT_TIMEOUT_MS (the events stay queued). No other parameter is accepted.',
      schema: { type: 'string', enum: ['true', 'false'], default: 'false' },
    }],
    requestBody: eventsBody,
    responses: {
      200: json('wait=true: every event of the request is stored or dropped as a duplicate', ref('Confirmed')),
      202: json('every event of the request is in the queue (with wait=true: not yet all stored after WAIT_TIMEOUT_MS)', ref('Accepted')),
      400: errors.badPublish, 401: errors.unauthorized, 413: errors.tooLarge, 415: errors.mediaType, 429: errors.backpressure, 503: errors.unavailable,
    },
  });
  return { '/': { post: publish('publish', 'queue the events of the request, all or none') }, '/publish': { post: publish('publishAlias', 'the same, at its alias') } };
}

function processPaths(): Paths {
  return {
    '/': {
      post: {
        operationId: 'process',
        summary: 'store the events of the request now and say what became of them',
        tags: ['process'],
        security: keyed,
        requestBody: eventsBody,
        responses: {
          200: json('stored, dropped as duplicates, or dead-lettered', ref('Processed')),
          400: errors.badBody, 401: errors.unauthorized, 413: errors.tooLarge, 415: errors.mediaType, 503: errors.unavailable,
        },
      },
    },
  };
}

function statsPaths(): Paths {
  const query = (name: string, description: string, schema: JsonSchema) => ({ name, in: 'query', required: false, description, schema });
  const stats = (operationId: string, summary: string): Operation => ({
    operationId,
    summary,
    tags: ['stats'],
    security: keyed,
    parameters: [
      query('topics_limit', 'how many topics to list', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
      query('topics_order', 'busiest: the busiest topics first (one bounded list); name: every topic, a page at a time, in name order', {
        type: 'string', enum: ['busiest', 'name'], default: 'busiest',
      }),
      query('topics_after', 'with topics_order=name: the topics_next_cursor of the previous page', { type: 'string' }),
    ],
    responses: { 200: json('the counters', ref('Stats')), 400: errors.badQuery, 401: errors.unauthorized, 503: errors.unavailable },
  });
  // These change what gets stored, so they take a key of INGEST_API_KEYS (when set), not a read key.
  const letterAction = (operationId: string, summary: string): Operation => ({
    operationId,
    summary,
    tags: ['stats'],
    security: keyed,
    parameters: [{ name: 'id', in: 'path', required: true, description: 'the id GET /dead-letters gave', schema: { type: 'string' } }],
    responses: { 200: json('done', ref('DeadLetterDone')), 401: errors.unauthorized, 404: errors.notFound, 503: errors.unavailable },
  });
  const instant = (edge: string) => ({ type: 'string', format: 'date-time', description: `RFC 3339 with a zone offset or Z; ${edge}` });
  return {
    '/': { get: stats('getStats', 'the counters') },
    '/stats': { get: stats('getStatsAlias', 'the counters, at their alias') },
    '/events': {
      get: {
        operationId: 'listEvents',
        summary: 'stored unique events, oldest stored first (or newest first); the filters combine',
        tags: ['stats'],
        security: keyed,
        parameters: [
          query('topic', 'only this topic', { type: 'string' }),
          query('event_id', 'only this event_id (in every topic, unless topic is given)', { type: 'string' }),
          query('source', 'only this source, exactly', { type: 'string' }),
          query('since', 'only events whose timestamp is at or after this instant', instant('inclusive')),
          query('until', 'only events whose timestamp is before this instant', instant('exclusive')),
          query('order', 'storage order: asc is oldest stored first, desc newest stored first', { type: 'string', enum: ['asc', 'desc'], default: 'asc' }),
          query('limit', 'events per page', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
          query('after', 'the next_cursor of the previous page (in the same order)', { type: 'string' }),
        ],
        responses: { 200: json('a page of events', ref('EventPage')), 400: errors.badQuery, 401: errors.unauthorized, 503: errors.unavailable },
      },
    },
    '/dead-letters': {
      get: {
        operationId: 'listDeadLetters',
        summary: 'the dead letters, newest first: why each was parked, its size and its first keys',
        tags: ['stats'],
        security: keyed,
        parameters: [query('limit', 'how many of the newest letters', { type: 'integer', minimum: 1, maximum: 1000, default: 50 })],
        responses: { 200: json('the newest letters and how many there are', ref('DeadLetterPage')), 400: errors.badQuery, 401: errors.unauthorized, 503: errors.unavailable },
      },
    },
    '/dead-letters/{id}/replay': { post: letterAction('replayDeadLetter', 'put the letter back in the queue: its events are pending again, then stored') },
    '/dead-letters/{id}/drop': { post: letterAction('dropDeadLetter', 'delete the letter for good: its events stay counted in dead_lettered') },
    '/status': {
      get: {
        operationId: 'queueStatus',
        summary: 'queue depth and whether each dependency answers, for the dashboard',
        tags: ['stats'],
        security: keyed,
        responses: { 200: json('answers even while a dependency is down', ref('QueueStatus')), 401: errors.unauthorized },
      },
    },
    '/dashboard': {
      get: {
        operationId: 'dashboard',
        summary: 'the live dashboard, one self-contained page (it asks for the read key when one is needed)',
        tags: ['stats'],
        responses: { 200: text('the page', 'text/html') },
      },
    },
    '/openapi.json': {
      get: { operationId: 'openapi', summary: 'this document', tags: ['stats'], responses: { 200: json('OpenAPI 3.1', ref('OpenApiDocument')) } },
    },
  };
}

/**
 * The routes of each function at its own root, as the function serves them when run alone.
 *
 * @example functionPaths('stats')['/events']?.get?.responses[200]
 */
export function functionPaths(name: FunctionName): Paths {
  const own = { ingest: ingestPaths, process: processPaths, stats: statsPaths }[name]();
  return { ...own, ...opsPaths(name) };
}

/** How a key is presented where one is needed (shared/http/api-key.ts). */
export const securitySchemes = {
  bearer: { type: 'http', scheme: 'bearer', description: 'one of INGEST_API_KEYS or READ_API_KEYS' },
  apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'the same keys, in a header' },
};
