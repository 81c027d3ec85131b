import * as v from 'valibot';
import type { Config } from '../config/config.ts';
import { timestampProblem } from './timestamp.ts';

/** A JSON object as `JSON.parse` gives it. */
export type JsonObject = { [key: string]: unknown };

/** One event as a publisher sends it, after validation. */
export type Event = {
  topic: string;
  event_id: string;
  timestamp: string;
  source: string;
  payload: JsonObject;
};

export type EventLimits = Pick<
  Config['limits'],
  'maxTopicLength' | 'maxEventIdLength' | 'maxSourceLength' | 'maxPayloadBytes' | 'maxPayloadDepth'
>;

const CONTROL = /\p{Cc}/u;
const isPlainObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Why a payload cannot be stored, or null. One walk checks nesting depth and
 * NUL characters (in keys too: PostgreSQL's jsonb refuses `\u0000`).
 */
function payloadShapeProblem(value: unknown, maxDepth: number, depth = 1): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? 'must not contain \\u0000' : null;
  if (typeof value !== 'object' || value === null) return null;
  if (depth > maxDepth) return `must not nest deeper than ${maxDepth} levels`;
  const children = Array.isArray(value) ? value : Object.values(value);
  if (!Array.isArray(value) && Object.keys(value).some((key) => key.includes('\u0000'))) return 'must not contain \\u0000';
  for (const child of children) {
    const problem = payloadShapeProblem(child, maxDepth, depth + 1);
    if (problem) return problem;
  }
  return null;
}

// Lengths are counted in code points, so that an emoji is one character as a user would count it.
const textField = (name: string, max: number, allowed: RegExp | null, rule: string) =>
  v.pipe(
    v.string(`${name} must be a string`),
    v.check((s) => s.length > 0, `${name} must not be empty`),
    v.check((s) => s.length <= max || [...s].length <= max, `${name} must be at most ${max} characters`),
    allowed
      ? v.check((s) => allowed.test(s), `${name} may contain only ${rule}`)
      : v.check((s) => !CONTROL.test(s), `${name} must not contain control characters`),
  );

/**
 * The valibot schema of one event under the given limits.
 *
 * @example v.safeParse(eventSchema(defaultConfig().limits), body)
 */
export function eventSchema(limits: EventLimits) {
  return v.strictObject(
    {
      topic: textField('topic', limits.maxTopicLength, /^[\p{L}\p{Nd}._:/-]+$/u, 'letters, digits and . _ - : /'),
      event_id: textField('event_id', limits.maxEventIdLength, null, ''),
      timestamp: v.pipe(
        v.string('timestamp must be a string'),
        v.rawCheck(({ dataset, addIssue }) => {
          const problem = dataset.typed ? timestampProblem(dataset.value) : null;
          if (problem) addIssue({ message: `timestamp ${problem}` });
        }),
      ),
      source: textField('source', limits.maxSourceLength, null, ''),
      payload: v.pipe(
        v.custom<JsonObject>(isPlainObject, 'payload must be a JSON object'),
        v.rawCheck(({ dataset, addIssue }) => {
          if (!dataset.typed) return;
          const problem = payloadShapeProblem(dataset.value, limits.maxPayloadDepth);
          if (problem) return addIssue({ message: `payload ${problem}` });
          const bytes = Buffer.byteLength(JSON.stringify(dataset.value));
          if (bytes > limits.maxPayloadBytes) addIssue({ message: `payload must be at most ${limits.maxPayloadBytes} bytes serialized (it is ${bytes})` });
        }),
      ),
    },
    (issue) => (issue.expected === 'never' ? 'unknown field' : 'an event must be a JSON object'),
  );
}
