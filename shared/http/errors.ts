import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { validationSummary, type ValidationDetail } from '../event/event-check.ts';

export type { ValidationDetail };

/**
 * An expected failure with a stable `code`, the HTTP status it maps to, and the
 * fields of its JSON body. The app's error handler renders it; anything else is a 500.
 *
 * @example throw new AppError(400, 'empty_batch', 'the request holds no event')
 */
export class AppError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly body: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AppError';
  }

  toJSON(): Record<string, unknown> {
    return { error: this.code, message: this.message, ...this.body };
  }
}

export const invalidJson = (message: string) => new AppError(400, 'invalid_json', message);
export const validationFailed = (details: ValidationDetail[]) =>
  new AppError(400, 'validation_failed', validationSummary(details), { details });
export const emptyBatch = () => new AppError(400, 'empty_batch', 'the request holds no event');
export const invalidEncoding = () => new AppError(400, 'invalid_encoding', 'the body is not valid gzip');
/** The client stopped sending (it went away, or the server's request timeout cut it off). */
export const incompleteBody = () => new AppError(400, 'incomplete_body', 'the request body ended before it was complete');
export const tooLarge = (message: string, limit: number) => new AppError(413, 'too_large', message, { limit });
export const unsupportedMediaType = (message: string) => new AppError(415, 'unsupported_media_type', message);
export const unauthorized = () =>
  new AppError(401, 'unauthorized', 'a valid API key is required', {}, { 'WWW-Authenticate': 'Bearer' });
/** A query parameter is unknown, repeated or breaks its rule; `parameter` names it for programs. */
export const invalidQuery = (message: string, parameter: string) => new AppError(400, 'invalid_query', message, { parameter });

/** The queue is over its limit: the client should slow down and retry. */
export const backpressure = (retryAfterSeconds: number) =>
  new AppError(429, 'backpressure', 'the queue is full, retry later', {}, { 'Retry-After': String(retryAfterSeconds) });

/** A dependency did not answer: nothing of the request was kept. */
export const unavailable = (dependency: 'redis' | 'postgres', cause?: unknown) =>
  new AppError(503, 'unavailable', `${dependency} is unavailable, retry later`, { dependency }, { 'Retry-After': '1' }, { cause });
