import * as v from 'valibot';
import { eventSchema, type EventLimits } from '../../shared/event/event.schema.ts';
import { Dependencies } from '../../shared/http/ops-routes.ts';
import { count, described, named } from '../../shared/openapi/responses.ts';

// The bodies the stats function answers with: the handlers build them to these types, and the
// OpenAPI document describes them from these schemas.

const nullable = (schema: v.GenericSchema, description: string) => described(v.nullable(schema), description);
const dateTime = (description: string) => described(v.pipe(v.string(), v.metadata({ format: 'date-time' })), description);

export const Stats = named('Stats', v.strictObject({
  received: count('events accepted, by ingest or the process trigger'),
  unique_processed: count('events stored'),
  duplicate_dropped: count('events dropped as duplicates'),
  pending: count('events received and not yet stored, dropped or dead-lettered'),
  dead_lettered: count('events parked in the dead-letter list'),
  topics: described(
    v.array(v.strictObject({ topic: v.string(), unique_processed: count('events stored'), duplicate_dropped: count('duplicates dropped') })),
    'at most topics_limit: the busiest first, or a page in name order with topics_order=name',
  ),
  topics_next_cursor: v.optional(nullable(v.string(), 'with topics_order=name only: pass as topics_after for the next page; null on the last')),
  uptime_seconds: v.pipe(v.number(), v.minValue(0)),
}));

/** A page of GET /events; an event's fields follow the event's rules under `limits`. */
export const eventPage = (limits: EventLimits) => {
  const StoredEvent = named('StoredEvent', v.strictObject({
    ...eventSchema(limits).entries,
    timestamp: dateTime('RFC 3339, UTC'),
    stored_at: dateTime('when it was stored'),
  }), 'an event as first received, and when it was stored');
  return named('EventPage', v.strictObject({
    events: described(v.array(StoredEvent), 'in storage order: oldest stored first, or newest first with order=desc'),
    next_cursor: nullable(v.string(), 'pass as ?after= for the next page; null on the last page'),
  }));
};

const DeadLetter = named('DeadLetter', v.strictObject({
  id: described(v.pipe(v.string(), v.regex(/^[0-9a-f]{12}$/)), 'stable while the letter is parked; names it for replay and drop'),
  at: dateTime('when it was parked'),
  reason: described(v.string(), 'why it could not be processed'),
  attempts: count('times it was claimed without being acknowledged'),
  events: count('events it holds, counted in dead_lettered'),
  batch_id: nullable(v.string(), 'the batch_id ingest answered with (the first, when the message holds several requests); null when the message cannot be read'),
  batch_ids: described(v.array(v.string()), 'the batch_id of every request whose events the message holds, in order: one, or several accepted together; empty when the message cannot be read'),
  first_keys: described(v.array(v.strictObject({ topic: v.string(), event_id: v.string() })), 'the keys of its first events (at most 3), to recognise it'),
  unreadable: nullable(v.string(), 'why the parked message cannot be read; null when it can'),
}));

export const DeadLetterPage = named('DeadLetterPage', v.strictObject({
  dead_letters: described(v.array(DeadLetter), 'the newest first, at most limit'),
  total: count('letters parked in all'),
}));

export const DeadLetterDone = named('DeadLetterDone', v.strictObject({
  done: described(v.picklist(['replayed', 'dropped']), 'replayed: back in the queue, its events pending again; dropped: deleted, its events stay in dead_lettered'),
  dead_letter: DeadLetter,
}));

export const QueueStatus = named('QueueStatus', v.strictObject({
  queue: nullable(
    v.strictObject({ messages: count('messages waiting in the queue'), batches_in_flight: count('batches claimed and not yet acknowledged') }),
    'null while Redis does not answer',
  ),
  dependencies: Dependencies,
}));
