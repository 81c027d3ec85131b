import { v7 as uuidv7 } from 'uuid';
import { checkEvent, validationSummary } from '../../shared/event/event-check.ts';
import { isJsonObject, type Event, type EventSchema, type JsonObject } from '../../shared/event/event.schema.ts';
import { InvalidEventError } from './errors.ts';

/** An event as `publish` takes it: `event_id` and `timestamp` may be left out. */
export type EventInput = {
  topic: string;
  event_id?: string;
  timestamp?: string;
  source: string;
  payload: JsonObject;
};

/** An event ready to be batched: as it will be stored, and its JSON as it will be sent. */
export type PreparedEvent = { event: Event; json: Uint8Array };

const encoder = new TextEncoder();

function toJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (error) {
    // A BigInt or a cycle: nothing the server could even be sent.
    const detail = { index: 0, path: '', message: `an event must be serializable as JSON (${(error as Error).message})` };
    throw new InvalidEventError(validationSummary([detail]), [detail]);
  }
}

/**
 * Fills a missing `event_id` (a UUID v7) and `timestamp` (now), serializes the
 * event once, and checks the JSON as the server will read it, with the server's
 * schema: what JSON.stringify makes of the object (a Date becomes a string, an
 * undefined field disappears) is what is checked and sent. Filling happens here,
 * once, so every retry sends the same key.
 *
 * @example prepareEvent({ topic: 'orders', source: 'shop', payload: {} }, schema).event.event_id // '019...'
 */
export function prepareEvent(input: EventInput, schema: EventSchema): PreparedEvent {
  const filled = isJsonObject(input)
    ? { ...input, event_id: input.event_id === undefined ? uuidv7() : input.event_id, timestamp: input.timestamp === undefined ? new Date().toISOString() : input.timestamp }
    : input;
  const json = toJson(filled);
  const checked = checkEvent(schema, json === undefined ? undefined : JSON.parse(json), 0);
  if ('details' in checked) throw new InvalidEventError(validationSummary(checked.details), checked.details);
  return { event: checked.event, json: encoder.encode(json) };
}
