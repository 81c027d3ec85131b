import type { ValidationDetail } from '../../shared/event/event-check.ts';
import type { Event } from '../../shared/event/event.schema.ts';

export type { ValidationDetail };

/**
 * An event refused at `publish`, before it was buffered: it breaks a rule of the
 * event schema. `code`, `message` and `details` are those the server would answer
 * (a 400 validation_failed), so `JSON.stringify(error)` is the server's body.
 */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
  readonly code = 'validation_failed';
  constructor(message: string, readonly details: ValidationDetail[]) {
    super(message);
  }

  toJSON() {
    return { error: this.code, message: this.message, details: this.details };
  }
}

/** How one request of a batch failed. */
export type Failure = {
  /** The HTTP status, or 0 when no answer came (connection refused or cut, timeout). */
  status: number;
  /** The server's `error` (`backpressure`, `validation_failed`, `unauthorized`, ...), or `network_error` / `timeout`. */
  code: string;
  message: string;
  /** The server's JSON answer as it came, when it sent one. */
  body?: unknown;
};

/**
 * A batch whose request failed. `onError` gets one for every failed attempt
 * (`willRetry` says whether the batch is sent again, after `retryInMs`); `flush`
 * and `close` reject with those of batches that were given up. `events` is the
 * batch as sent, so a server detail's `index` names one of them.
 */
export class PublishError extends Error {
  override readonly name = 'PublishError';
  readonly status: number;
  readonly code: string;
  readonly body: unknown;
  constructor(
    failure: Failure,
    readonly events: readonly Event[],
    readonly attempts: number,
    readonly willRetry: boolean,
    readonly retryInMs?: number,
  ) {
    const answer = failure.status === 0 ? 'no answer' : `${failure.status} ${failure.code}`;
    super(`${events.length} events ${willRetry ? 'not accepted yet' : 'refused'} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${answer}: ${failure.message}`);
    this.status = failure.status;
    this.code = failure.code;
    this.body = failure.body;
  }

  /** The server's `details` for a validation_failed answer: `index` points into `events`. */
  get details(): ValidationDetail[] | undefined {
    const details = (this.body as { details?: unknown } | undefined)?.details;
    return Array.isArray(details) ? (details as ValidationDetail[]) : undefined;
  }
}

/** What `flush` and `close` reject with: every batch given up since the last report, in `errors`. */
export class FlushError extends Error {
  override readonly name = 'FlushError';
  constructor(readonly errors: readonly PublishError[]) {
    const events = errors.reduce((n, e) => n + e.events.length, 0);
    super(`${events} events were not published: ${errors[0]?.message ?? ''}${errors.length > 1 ? ` (and ${errors.length - 1} more batches)` : ''}`);
  }
}

/** `publish` after `close`. */
export class PublisherClosedError extends Error {
  override readonly name = 'PublisherClosedError';
  constructor() {
    super('the publisher is closed');
  }
}
