import * as v from 'valibot';
import { eventSchema, type EventLimits } from '../../shared/event/event.schema.ts';
import { timestampProblem } from '../../shared/event/timestamp.ts';
import { invalidQuery } from '../../shared/http/errors.ts';

type QuerySchema = v.ObjectSchema<v.ObjectEntries, undefined>;

// A parameter name is said back only when it is short and plain: an error never echoes arbitrary input.
const sayable = (name: string) => (/^[\w.-]{1,40}$/.test(name) ? name : 'a parameter with an unusual name');

/**
 * The parameters of a query string, checked against an object schema whose
 * entries are the only parameters allowed: an unknown, repeated or bad one is
 * a 400 `invalid_query` naming it (a silently ignored typo would answer another question).
 *
 * @example const { limit } = parseQuery(EventsQuery, c.req.queries())
 */
export function parseQuery<S extends QuerySchema>(schema: S, query: Record<string, string[]>): v.InferOutput<S> {
  const single: Record<string, string> = {};
  for (const [name, values] of Object.entries(query)) {
    if (!Object.hasOwn(schema.entries, name)) throw invalidQuery(`unknown parameter ${sayable(name)}`, sayable(name));
    if (values.length > 1) throw invalidQuery(`${name} is given more than once`, name);
    single[name] = values[0] as string;
  }
  const parsed = v.safeParse(schema, single);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0];
  const name = v.getDotPath(issue) ?? '';
  throw invalidQuery(issue.message, name);
}

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
