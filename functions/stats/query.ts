import * as v from 'valibot';
import { eventSchema, type EventLimits } from '../../shared/event/event.schema.ts';
import { timestampProblem } from '../../shared/event/timestamp.ts';

/** A page size: a whole number from 1 to `max`, `fallback` when absent. */
const pageSize = (name: string, fallback: number, max: number) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,4}$/, `${name} must be a whole number`),
      v.transform(Number),
      v.minValue(1, `${name} must be at least 1`),
      v.maxValue(max, `${name} must be at most ${max}`),
    ),
    String(fallback),
  );

/** An RFC 3339 instant with a zone offset, in the upper case PostgreSQL reads (`t` and `z` are allowed by the RFC). */
const instant = (name: string) =>
  v.pipe(
    v.string(),
    v.rawCheck(({ dataset, addIssue }) => {
      const problem = dataset.typed ? timestampProblem(dataset.value) : null;
      if (problem) addIssue({ message: `${name} ${problem}` });
    }),
    v.toUpperCase(),
  );

const MAX_PAGE = 1000;

/**
 * The parameters of GET /events: the event's own rules for topic, event_id and source.
 *
 * @example parseQuery(eventsQuery(config.limits), c.req.queries())
 */
export function eventsQuery(limits: EventLimits) {
  const { topic, event_id, source } = eventSchema(limits).entries;
  return v.object({
    topic: v.optional(topic),
    event_id: v.optional(event_id),
    source: v.optional(source),
    since: v.optional(instant('since')),
    until: v.optional(instant('until')),
    order: v.optional(v.picklist(['asc', 'desc'], 'order must be asc or desc'), 'asc'),
    limit: pageSize('limit', 100, MAX_PAGE),
    after: v.optional(v.string()),
  });
}

/** The parameters of GET /stats: how many topics, in which order, from where. */
export const statsQuery = v.object({
  topics_limit: pageSize('topics_limit', 100, MAX_PAGE),
  topics_order: v.optional(v.picklist(['busiest', 'name'], 'topics_order must be busiest or name'), 'busiest'),
  topics_after: v.optional(v.string()),
});

/** The parameters of GET /dead-letters: how many of the newest letters. */
export const deadLettersQuery = v.object({
  limit: pageSize('limit', 50, MAX_PAGE),
});
