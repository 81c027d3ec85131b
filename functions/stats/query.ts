import * as v from 'valibot';
import { eventSchema, rfc3339Instant, type EventLimits } from '../../shared/event/event.schema.ts';
import { described } from '../../shared/openapi/responses.ts';

// Each parameter's description is the one the OpenAPI document gives it (shared/openapi/document.ts).

/** A page size: a whole number from 1 to `max`, `fallback` when absent. */
const pageSize = (name: string, fallback: number, max: number, description: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,4}$/, `${name} must be a whole number`),
      v.transform(Number),
      // The number the query names, as the OpenAPI document describes it.
      v.number(),
      v.integer(),
      v.minValue(1, `${name} must be at least 1`),
      v.maxValue(max, `${name} must be at most ${max}`),
      v.description(description),
    ),
    String(fallback),
  );

/** An RFC 3339 instant, in the upper case PostgreSQL reads (`t` and `z` are allowed by the RFC). */
const instant = (name: string, description: string) => described(v.pipe(rfc3339Instant(name), v.toUpperCase()), description);

const MAX_PAGE = 1000;

/**
 * The parameters of GET /events: the event's own rules for topic, event_id and source.
 *
 * @example parseQuery(eventsQuery(config.limits), c.req.queries())
 */
export function eventsQuery(limits: EventLimits) {
  const { topic, event_id, source } = eventSchema(limits).entries;
  return v.object({
    topic: v.optional(described(topic, 'only this topic')),
    event_id: v.optional(described(event_id, 'only this event_id (in every topic, unless topic is given)')),
    source: v.optional(described(source, 'only this source, exactly')),
    since: v.optional(instant('since', 'only events whose timestamp is at or after this RFC 3339 instant (inclusive)')),
    until: v.optional(instant('until', 'only events whose timestamp is before this RFC 3339 instant (exclusive)')),
    order: v.optional(described(v.picklist(['asc', 'desc'], 'order must be asc or desc'), 'storage order: asc is oldest stored first, desc newest stored first'), 'asc'),
    limit: pageSize('limit', 100, MAX_PAGE, 'events per page'),
    after: v.optional(described(v.string(), 'the next_cursor of the previous page (in the same order)')),
  });
}

/** The parameters of GET /stats: how many topics, in which order, from where. */
export const statsQuery = v.object({
  topics_limit: pageSize('topics_limit', 100, MAX_PAGE, 'how many topics to list'),
  topics_order: v.optional(
    described(
      v.picklist(['busiest', 'name'], 'topics_order must be busiest or name'),
      'busiest: the busiest topics first (one bounded list); name: every topic, a page at a time, in name order',
    ),
    'busiest',
  ),
  topics_after: v.optional(described(v.string(), 'with topics_order=name: the topics_next_cursor of the previous page')),
});

/** The parameters of GET /dead-letters: how many of the newest letters. */
export const deadLettersQuery = v.object({
  limit: pageSize('limit', 50, MAX_PAGE, 'how many of the newest letters'),
});
