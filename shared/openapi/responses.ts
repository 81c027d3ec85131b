import * as v from 'valibot';
import type { EventSchema } from '../event/event.schema.ts';

/** One answer of a route: its media types and body schemas, and the headers it always carries. */
export type ResponseDoc = {
  description: string;
  content: Record<string, v.GenericSchema>;
  headers?: Record<string, { description: string; schema: v.GenericSchema }>;
};

/**
 * A JSON answer.
 *
 * @example json('the counters', Stats)
 */
export const json = (description: string, schema: v.GenericSchema, headers?: ResponseDoc['headers']): ResponseDoc => ({
  description,
  content: { 'application/json': schema },
  ...(headers ? { headers } : {}),
});

/** A text answer of the given media type. */
export const text = (description: string, mediaType: string): ResponseDoc => ({ description, content: { [mediaType]: v.string() } });

/** A whole number from zero, with what it counts. */
export const count = (description: string) => v.pipe(v.number(), v.integer(), v.minValue(0), v.description(description));

/** A value of `schema` with its description. */
export const described = <S extends v.GenericSchema>(schema: S, description: string) => v.pipe(schema, v.description(description));

/** `schema` under `name` in the document's components. */
export const named = <S extends v.GenericSchema>(name: string, schema: S, description?: string) =>
  v.pipe(schema, v.title(name), ...(description ? [v.description(description)] : []));

/** The body of an error answer whose `error` is one of `codes`, with the fields those codes carry (shared/http/errors.ts). */
const errorBody = (codes: [string, ...string[]], fields: v.ObjectEntries = {}) =>
  v.strictObject({ error: v.picklist(codes), message: v.string(), ...fields });

const retryAfter = { 'Retry-After': { description: 'seconds to wait before retrying', schema: v.pipe(v.string(), v.regex(/^\d+$/)) } };
const details = described(
  v.array(v.strictObject({ index: count('position of the event in the request'), path: v.string(), message: v.string() })),
  'one entry per broken rule, at most 50',
);
const parameter = described(v.string(), 'the query parameter at fault');

const BAD_BODY = {
  description: 'the body is not JSON or NDJSON, an event breaks a rule, there is no event, or the body stopped short',
  codes: ['invalid_json', 'validation_failed', 'empty_batch', 'invalid_encoding', 'incomplete_body'],
} as const;
const BAD_QUERY = { description: 'a query parameter is unknown, repeated or breaks its rule', codes: ['invalid_query'] } as const;

/**
 * The 400 of a route that reads events, a query, or both: the codes of each,
 * and the field each carries (optional when the answer may be of the other kind).
 */
export function badRequest(events: boolean, query: boolean): ResponseDoc {
  const both = events && query;
  return json([events && BAD_BODY.description, query && BAD_QUERY.description].filter(Boolean).join('; or '), errorBody(
    [...(events ? BAD_BODY.codes : []), ...(query ? BAD_QUERY.codes : [])] as [string, ...string[]],
    {
      ...(events ? { details: v.optional(details) } : {}),
      ...(query ? { parameter: both ? v.optional(parameter) : parameter } : {}),
    },
  ));
}

/** The answers every route that reads events gives, besides its own. */
export const eventsErrors: Record<number, ResponseDoc> = {
  413: json('more events than MAX_EVENTS_PER_REQUEST, or a body over MAX_BODY_BYTES (after gunzip too)', errorBody(['too_large'], { limit: count('the limit that was passed') })),
  415: json('a content type or encoding other than those listed', errorBody(['unsupported_media_type'])),
};

export const unauthorized = json('a key is required and was missing or wrong', errorBody(['unauthorized']), {
  'WWW-Authenticate': { description: 'the scheme to use', schema: v.literal('Bearer') },
});

/** Answers a route lists itself, in `responses`. */
export const errors = {
  backpressure: json('the queue holds MAX_QUEUE_LENGTH pending events: retry later', errorBody(['backpressure']), retryAfter),
  notFound: json('no dead letter has this id (any more)', errorBody(['not_found'])),
  unavailable: json('Redis or PostgreSQL does not answer; nothing of the request was kept', errorBody(['unavailable'], { dependency: v.picklist(['redis', 'postgres']) }), retryAfter),
};

/**
 * The request body of ingest and process: events of `schema`, in any of the shapes read-events.ts reads.
 *
 * @example describeRoute({ events: eventsBody(schema), ... })
 */
export function eventsBody(schema: EventSchema) {
  const event = named('Event', schema, 'one event as a publisher sends it');
  return {
    'application/json': named('EventBatch', v.union([event, v.array(event), v.strictObject({ events: v.array(event) })]), 'one event, an array of events, or {"events": [...]}'),
    'application/x-ndjson': described(v.string(), 'one event per line'),
  };
}
