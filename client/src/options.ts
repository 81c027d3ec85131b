import * as v from 'valibot';
import type { EventLimits } from '../../shared/event/event.schema.ts';
import type { PublishError } from './errors.ts';

/**
 * The server's limits when it runs with its defaults (the contract's event table
 * and request limits). A publisher talking to a server configured otherwise
 * passes `limits`, `maxBatchEvents` and `maxBatchBytes` to match.
 */
export const SERVER_DEFAULTS = Object.freeze({
  maxTopicLength: 128,
  maxEventIdLength: 128,
  maxSourceLength: 128,
  maxPayloadBytes: 64 * 1024,
  maxPayloadDepth: 32,
  maxEventsPerRequest: 1000,
  maxBodyBytes: 5 * 1024 * 1024,
});

export type PublisherOptions = {
  /** The service's base URL; events are posted to `<url>/publish`. */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>` (the server's INGEST_API_KEYS). */
  apiKey?: string;
  /** Events per request, at most the server's MAX_EVENTS_PER_REQUEST. Default 1000. */
  maxBatchEvents?: number;
  /** JSON bytes per request before gzip, at most the server's MAX_BODY_BYTES. Default 5 MiB. */
  maxBatchBytes?: number;
  /** A batch that is not full is sent this long after its first event was published. Default 200. */
  flushIntervalMs?: number;
  /** Events held (buffered or in requests not yet answered) before `publish` waits for room. Default 10000. */
  maxBufferedEvents?: number;
  /** Gzip a request body when that makes it a tenth smaller or more. Default true. */
  gzip?: boolean;
  /** Told of every failed request: retried ones (`willRetry`) and given-up ones. Must not throw. */
  onError?: (error: PublishError) => void;
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
  /** Retries of a batch before it is given up and reported. Default: no limit, as an accepted event must not be lost. */
  maxRetries?: number;
  /** A request with no answer after this long is cut off and retried. Default 30000. */
  requestTimeoutMs?: number;
  /** The server's event limits, when it is not run with the defaults. */
  limits?: Partial<EventLimits>;
};

const count = (min: number) => v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(min, `must be at least ${min}`));
const optionalCount = (min: number, fallback: number) => v.optional(count(min), fallback);

const OptionsSchema = v.strictObject({
  url: v.pipe(
    v.string('must be a string'),
    v.check((s) => URL.canParse(s) && ['http:', 'https:'].includes(new URL(s).protocol), 'must be an http or https URL'),
  ),
  apiKey: v.optional(v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'))),
  maxBatchEvents: optionalCount(1, SERVER_DEFAULTS.maxEventsPerRequest),
  maxBatchBytes: optionalCount(1, SERVER_DEFAULTS.maxBodyBytes),
  flushIntervalMs: optionalCount(0, 200),
  maxBufferedEvents: optionalCount(1, 10_000),
  gzip: v.optional(v.boolean('must be true or false'), true),
  onError: v.optional(v.function('must be a function')),
  concurrency: optionalCount(1, 4),
  maxRetries: v.optional(v.union([count(0), v.literal(Infinity)], 'must be a whole number from 0, or Infinity'), Infinity),
  requestTimeoutMs: optionalCount(1, 30_000),
  limits: v.optional(
    v.strictObject({
      maxTopicLength: v.optional(count(1)),
      maxEventIdLength: v.optional(count(1)),
      maxSourceLength: v.optional(count(1)),
      maxPayloadBytes: v.optional(count(1)),
      maxPayloadDepth: v.optional(count(1)),
    }),
    {},
  ),
}, (issue) => (issue.expected === 'never' ? 'is not an option' : 'must be an object'));

export type ResolvedOptions = {
  endpoint: URL;
  apiKey: string | undefined;
  maxBatchEvents: number;
  maxBatchBytes: number;
  flushIntervalMs: number;
  maxBufferedEvents: number;
  gzip: boolean;
  onError: ((error: PublishError) => void) | undefined;
  concurrency: number;
  maxRetries: number;
  requestTimeoutMs: number;
  limits: EventLimits;
};

/** The options with every default filled in; a TypeError naming each bad option otherwise. */
export function resolveOptions(options: PublisherOptions): ResolvedOptions {
  const result = v.safeParse(OptionsSchema, options);
  if (!result.success) {
    const problems = result.issues.map((issue) => `${v.getDotPath(issue) ?? 'options'} ${issue.message}`);
    throw new TypeError(`createPublisher: ${problems.join('; ')}`);
  }
  const o = result.output;
  // A base URL with a path (a gateway's prefix) keeps it: http://host/agg -> http://host/agg/publish.
  const base = new URL(o.url);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const { maxEventsPerRequest: _events, maxBodyBytes: _bytes, ...eventDefaults } = SERVER_DEFAULTS;
  return {
    endpoint: new URL('publish', base),
    apiKey: o.apiKey,
    maxBatchEvents: o.maxBatchEvents,
    maxBatchBytes: o.maxBatchBytes,
    flushIntervalMs: o.flushIntervalMs,
    maxBufferedEvents: o.maxBufferedEvents,
    gzip: o.gzip,
    onError: o.onError as ResolvedOptions['onError'],
    concurrency: o.concurrency,
    maxRetries: o.maxRetries,
    requestTimeoutMs: o.requestTimeoutMs,
    // A limit given as undefined keeps its default.
    limits: { ...eventDefaults, ...Object.fromEntries(Object.entries(o.limits).filter(([, value]) => value !== undefined)) },
  };
}
