// @event-aggregator/client: a publisher for the event aggregator's ingest that
// batches, gzips, retries, and never loses an event whose publish resolved.
export { createPublisher, type Publisher, type PublisherStats } from './publisher.ts';
export { SERVER_DEFAULTS, type PublisherOptions } from './options.ts';
export type { EventInput } from './prepare-event.ts';
export type { Event, EventLimits } from '../../shared/event/event.schema.ts';
export { FlushError, InvalidEventError, PublishError, PublisherClosedError, type Failure, type ValidationDetail } from './errors.ts';
