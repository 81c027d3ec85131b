import { TOPIC_CHARSET, type EventLimits } from '../event/event.schema.ts';

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1), as plain data. */
export type JsonSchema = { [keyword: string]: unknown };

export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const integer = (description: string): JsonSchema => ({ type: 'integer', minimum: 0, description });

const object = (properties: Record<string, JsonSchema>, optional: string[] = []): JsonSchema => ({
  type: 'object',
  properties,
  required: Object.keys(properties).filter((name) => !optional.includes(name)),
  additionalProperties: false,
});

/** The body of an error answer whose `error` is one of `codes`, with the extra fields those codes carry. */
export function errorBody(codes: string[], required: Record<string, JsonSchema> = {}, optional: Record<string, JsonSchema> = {}): JsonSchema {
  return object({ error: { type: 'string', enum: codes }, message: { type: 'string' }, ...required, ...optional }, Object.keys(optional));
}

/** The detail fields some errors carry. */
export const errorFields = {
  details: {
    type: 'array',
    description: 'one entry per broken rule, at most 50',
    items: object({ index: integer('position of the event in the request'), path: { type: 'string' }, message: { type: 'string' } }),
  },
  limit: integer('the limit that was passed'),
  dependency: { type: 'string', enum: ['redis', 'postgres'] },
  parameter: { type: 'string', description: 'the query parameter at fault' },
} satisfies Record<string, JsonSchema>;

/**
 * The schemas of every request and response body, under the configured event
 * limits, for `components.schemas` of the OpenAPI documents.
 *
 * @example bodySchemas(config.limits).Stats
 */
export function bodySchemas(limits: EventLimits): Record<string, JsonSchema> {
  const text = (max: number, description: string): JsonSchema => ({ type: 'string', minLength: 1, maxLength: max, description });
  const eventFields = {
    topic: { ...text(limits.maxTopicLength, TOPIC_CHARSET.rule), pattern: TOPIC_CHARSET.allowed.source },
    event_id: text(limits.maxEventIdLength, 'no control characters'),
    timestamp: { type: 'string', format: 'date-time', description: 'RFC 3339 with a zone offset or Z' },
    source: text(limits.maxSourceLength, 'no control characters'),
    payload: { type: 'object', description: `a JSON object, at most ${limits.maxPayloadBytes} bytes serialized, no \\u0000` },
  } satisfies Record<string, JsonSchema>;
  return {
    Event: { ...object(eventFields), description: 'one event as a publisher sends it' },
    EventBatch: {
      description: 'one event, an array of events, or {"events": [...]}',
      oneOf: [ref('Event'), { type: 'array', items: ref('Event') }, object({ events: { type: 'array', items: ref('Event') } })],
    },
    StoredEvent: {
      ...object({ ...eventFields, timestamp: { type: 'string', format: 'date-time', description: 'RFC 3339, UTC' }, stored_at: { type: 'string', format: 'date-time' } }),
      description: 'an event as first received, and when it was stored',
    },
    EventPage: object({
      events: { type: 'array', items: ref('StoredEvent'), description: 'in storage order: oldest stored first, or newest first with order=desc' },
      next_cursor: { type: ['string', 'null'], description: 'pass as ?after= for the next page; null on the last page' },
    }),
    Accepted: object({ accepted: integer('events queued'), batch_id: { type: 'string' } }),
    Confirmed: object({
      accepted: integer('events queued'),
      batch_id: { type: 'string' },
      stored: integer('events stored as the first of their key'),
      duplicates: integer('events dropped as duplicates, of earlier events or of one before them in the request'),
      results: {
        type: 'array',
        description: 'one entry per event, in request order',
        items: object({ status: { type: 'string', enum: ['stored', 'duplicate'] } }),
      },
    }),
    Processed: object({
      processed: integer('events in the request'),
      unique: integer('events stored as the first of their key'),
      duplicates: integer('events dropped as duplicates'),
      dead_lettered: integer('events parked in the dead-letter list'),
    }),
    Stats: object({
      received: integer('events accepted, by ingest or the process trigger'),
      unique_processed: integer('events stored'),
      duplicate_dropped: integer('events dropped as duplicates'),
      pending: integer('events received and not yet stored, dropped or dead-lettered'),
      dead_lettered: integer('events parked in the dead-letter list'),
      topics: {
        type: 'array',
        description: 'at most topics_limit: the busiest first, or a page in name order with topics_order=name',
        items: object({ topic: { type: 'string' }, unique_processed: integer('events stored'), duplicate_dropped: integer('duplicates dropped') }),
      },
      topics_next_cursor: { type: ['string', 'null'], description: 'with topics_order=name only: pass as topics_after for the next page; null on the last' },
      uptime_seconds: { type: 'number', minimum: 0 },
    }, ['topics_next_cursor']),
    DeadLetter: object({
      id: { type: 'string', pattern: '^[0-9a-f]{12}$', description: 'stable while the letter is parked; names it for replay and drop' },
      at: { type: 'string', format: 'date-time', description: 'when it was parked' },
      reason: { type: 'string', description: 'why it could not be processed' },
      attempts: integer('times it was claimed without being acknowledged'),
      events: integer('events it holds, counted in dead_lettered'),
      batch_id: { type: ['string', 'null'], description: 'the batch_id ingest answered with; null when the message cannot be read' },
      first_keys: {
        type: 'array',
        description: 'the keys of its first events (at most 3), to recognise it',
        items: object({ topic: { type: 'string' }, event_id: { type: 'string' } }),
      },
      unreadable: { type: ['string', 'null'], description: 'why the parked message cannot be read; null when it can' },
    }),
    DeadLetterPage: object({
      dead_letters: { type: 'array', items: ref('DeadLetter'), description: 'the newest first, at most limit' },
      total: integer('letters parked in all'),
    }),
    DeadLetterDone: object({
      done: { type: 'string', enum: ['replayed', 'dropped'], description: 'replayed: back in the queue, its events pending again; dropped: deleted, its events stay in dead_lettered' },
      dead_letter: ref('DeadLetter'),
    }),
    Health: object({ status: { const: 'ok' } }),
    Readiness: object(
      {
        status: { type: 'string', enum: ['ready', 'unavailable'] },
        dependencies: { type: 'object', additionalProperties: { type: 'boolean' }, description: 'dependency name → whether it answers' },
        down: { type: 'array', items: { type: 'string' }, minItems: 1 },
      },
      ['down'],
    ),
    QueueStatus: object({
      queue: {
        oneOf: [
          object({ messages: integer('messages waiting in the queue'), batches_in_flight: integer('batches claimed and not yet acknowledged') }),
          { type: 'null', description: 'Redis does not answer' },
        ],
      },
      dependencies: { type: 'object', additionalProperties: { type: 'boolean' }, description: 'dependency name → whether it answers' },
    }),
    OpenApiDocument: { type: 'object', required: ['openapi', 'info', 'paths'], description: 'this document' },
  };
}
