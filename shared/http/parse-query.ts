import * as v from 'valibot';
import { invalidQuery } from './errors.ts';

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
