import * as v from 'valibot';
import { payloadProblem } from './payload-problem.ts';
import { unstorableText } from './storable-text.ts';
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

// Spelled out rather than picked from Config: the publisher client compiles this module for
// browsers too, and must not pull in the server's configuration (which reads files).
export type EventLimits = {
  maxTopicLength: number;
  maxEventIdLength: number;
  maxSourceLength: number;
  maxPayloadBytes: number;
  maxPayloadDepth: number;
};

const CONTROL = /\p{Cc}/u;

// What a topic may hold, written once: textField checks it and says it as the schema's pattern and description.
const TOPIC_CHARSET = { allowed: /^[\p{L}\p{Nd}._:/-]+$/u, rule: 'letters, digits and . _ - : /' } as const;

// Node's Buffer counts UTF-8 bytes without copying the string; a browser (the publisher client) has only
// TextEncoder. Looked up on globalThis so that the client compiles without Node's types.
const NodeBuffer = (globalThis as { Buffer?: { byteLength: (text: string, encoding: 'utf8') => number } }).Buffer;
const encoder = new TextEncoder();
const utf8Length: (s: string) => number = NodeBuffer ? (s) => NodeBuffer.byteLength(s, 'utf8') : (s) => encoder.encode(s).length;

/** Whether a parsed JSON value is an object (not an array, not null). */
export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What is wrong with the characters of a free-text field, or null. */
function freeTextProblem(s: string): string | null {
  if (CONTROL.test(s)) return 'must not contain control characters'; // U+0000 included
  return unstorableText(s);
}

// Lengths are counted in code points, so that an emoji is one character as a user would count it.
// The metadata says the checks in JSON Schema terms (whose lengths count code points too), for the OpenAPI document.
const textField = (name: string, max: number, charset?: { allowed: RegExp; rule: string }) =>
  v.pipe(
    v.string(`${name} must be a string`),
    v.check((s) => s.length > 0, `${name} must not be empty`),
    v.check((s) => s.length <= max || [...s].length <= max, `${name} must be at most ${max} characters`),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      // A charset leaves out controls and lone surrogates by itself.
      const problem = charset ? (charset.allowed.test(dataset.value) ? null : `may contain only ${charset.rule}`) : freeTextProblem(dataset.value);
      if (problem) addIssue({ message: `${name} ${problem}` });
    }),
    v.metadata({ minLength: 1, maxLength: max, ...(charset ? { pattern: charset.allowed.source } : {}) }),
    v.description(charset?.rule ?? 'no control characters'),
  );

/**
 * An RFC 3339 instant with a zone offset or Z, that PostgreSQL can store: the
 * event's `timestamp`, and the bounds of GET /events.
 *
 * @example v.pipe(rfc3339Instant('since'), v.toUpperCase())
 */
export const rfc3339Instant = (name: string) =>
  v.pipe(
    v.string(`${name} must be a string`),
    v.rawCheck(({ dataset, addIssue }) => {
      const problem = dataset.typed ? timestampProblem(dataset.value) : null;
      if (problem) addIssue({ message: `${name} ${problem}` });
    }),
    v.metadata({ format: 'date-time' }),
    v.description('RFC 3339 with a zone offset or Z'),
  );

/** Valibot's path items for a payload problem, so that `getDotPath` names it: `payload.items.3.name`. */
function pathItems(payload: JsonObject, path: Array<string | number>): v.IssuePathItem[] {
  let node: unknown = payload;
  return path.map((key): v.IssuePathItem => {
    const parent = node;
    if (typeof key === 'number') {
      node = (parent as unknown[])[key];
      return { type: 'array', origin: 'value', input: parent as unknown[], key, value: node };
    }
    node = (parent as JsonObject)[key];
    return { type: 'object', origin: 'value', input: parent as JsonObject, key, value: node };
  });
}

/** The message of a problem found by the event object itself: not an object, unknown or missing field. */
function eventMessage(issue: v.StrictObjectIssue): string {
  if (issue.expected === 'never') return 'unknown field';
  const field = issue.path?.[0]?.key;
  return typeof field === 'string' ? `${field} is required` : 'an event must be a JSON object';
}

/**
 * The valibot schema of one event under the given limits. Every message is
 * written here and none quotes the input, so an error never echoes it back.
 *
 * @example v.safeParse(eventSchema(defaultConfig().limits), body)
 */
export function eventSchema(limits: EventLimits) {
  return v.strictObject(
    {
      topic: textField('topic', limits.maxTopicLength, TOPIC_CHARSET),
      event_id: textField('event_id', limits.maxEventIdLength),
      timestamp: rfc3339Instant('timestamp'),
      source: textField('source', limits.maxSourceLength),
      payload: v.pipe(
        v.custom<JsonObject>(isJsonObject, 'payload must be a JSON object'),
        v.rawCheck(({ dataset, addIssue }) => {
          if (!dataset.typed) return;
          const problem = payloadProblem(dataset.value, limits.maxPayloadDepth);
          if (problem) {
            const [first, ...rest] = pathItems(dataset.value, problem.path);
            return addIssue({ message: `payload: ${problem.message}`, ...(first ? { path: [first, ...rest] } : {}) });
          }
          const bytes = utf8Length(JSON.stringify(dataset.value));
          if (bytes > limits.maxPayloadBytes) addIssue({ message: `payload must be at most ${limits.maxPayloadBytes} bytes serialized (it is ${bytes})` });
        }),
        v.metadata({ type: 'object' }),
        v.description(`a JSON object, at most ${limits.maxPayloadBytes} bytes serialized, no \\u0000`),
      ),
    },
    eventMessage,
  );
}

export type EventSchema = ReturnType<typeof eventSchema>;
