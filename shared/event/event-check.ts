import * as v from 'valibot';
import { isJsonObject, type Event, type EventSchema } from './event.schema.ts';

/** One problem of one event of a request: an item of a 400 validation_failed answer's `details`. */
export type ValidationDetail = { index: number; path: string; message: string };

const MAX_PATH = 128;

/** The `message` of a validation_failed answer. */
export const validationSummary = (details: readonly ValidationDetail[]) =>
  details.length === 1 ? 'an event breaks a rule' : 'events break a rule';

/**
 * One item of a request checked against the event schema: the event, or the
 * details a validation_failed answer gives for it, at `index`. Ingest checks
 * every item with it, and the publisher client every event at `publish`, so a
 * client refuses an event in the server's own words.
 *
 * @example checkEvent(schema, JSON.parse(line), 3) // { details: [{ index: 3, path: 'timestamp', message: ... }] }
 */
export function checkEvent(schema: EventSchema, item: unknown, index: number): { event: Event } | { details: ValidationDetail[] } {
  // Checked here, not left to the schema: valibot would read an array as an object with five missing fields.
  if (!isJsonObject(item)) return { details: [{ index, path: '', message: 'an event must be a JSON object' }] };
  const result = v.safeParse(schema, item);
  if (result.success) return { event: result.output };
  return { details: result.issues.map((issue) => ({ index, path: (v.getDotPath(issue) ?? '').slice(0, MAX_PATH), message: issue.message })) };
}
