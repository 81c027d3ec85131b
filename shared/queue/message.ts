import type { Event } from '../event/event.schema.ts';

/** The events of one accepted request inside a queue message: its `batch_id` and how many events it has. */
export type BatchPart = { id: string; events: number };

/**
 * One queue message: the events of one accepted request, or of several accepted in the same turn of
 * ingest's event loop (`batches`, in order, their events one after another in `events`), and when it
 * was accepted (ms since epoch). The message is what is claimed, stored in one go and acknowledged;
 * each batch keeps its own `batch_id` for the publisher, the logs and `?wait=true`.
 */
export type QueueMessage = { id: string; at?: number; events: Event[]; batches?: BatchPart[] };

/** Throws unless `id` can be a message id: non-empty, without the header's `|`. */
export function checkMessageId(id: string): void {
  if (id.length === 0 || id.includes('|')) throw new Error(`a message id must be non-empty without "|": ${id}`);
}

/** Whether an id can stand in a batch list (`<id>:<events>,...`): a leading `[` would read as the events. */
export const isBatchId = (id: string) => /^[^|:,[][^|:,]*$/.test(id);

/** A message's requests, each its `batch_id` and its events: those its batch list names, else one, the message itself. */
export function batchesOf(message: QueueMessage): Array<{ id: string; events: Event[] }> {
  if (!message.batches) return [{ id: message.id, events: message.events }];
  let from = 0;
  return message.batches.map((b) => ({ id: b.id, events: message.events.slice(from, (from += b.events)) }));
}

/**
 * A message travels as `<event count>|<accepted at>|<id>|<events as JSON>`, or, when it holds
 * several requests, `<event count>|<accepted at>|<id>|<batch id>:<events>,...|<events as JSON>`:
 * the header's fields are explicit, so the Lua scripts (which size claims in events and
 * count attempts by id) and `acceptedAtOf` read them without decoding JSON; enqueue.lua
 * writes the second form itself. A message id holds no `|`; a batch id in a list none of `|`, `:` and `,`, and
 * does not start with `[`; `accepted at` is empty when unknown.
 *
 * @example encodeMessage({ id: 'b1', at: 1764489600000, events }) // '3|1764489600000|b1|[...]'
 */
export function encodeMessage(message: QueueMessage): string {
  checkMessageId(message.id);
  const batches = message.batches;
  for (const { id } of batches ?? []) {
    if (!isBatchId(id)) throw new Error(`a batch id in a batch list must be non-empty without "|", ":" or ",", not starting with "[": ${id}`);
  }
  const listed = batches !== undefined && (batches.length !== 1 || batches[0]!.id !== message.id);
  const parts = listed ? `${batches.map((b) => `${b.id}:${b.events}`).join(',')}|` : '';
  return `${message.events.length}|${message.at ?? ''}|${message.id}|${parts}${JSON.stringify(message.events)}`;
}

// Messages queued before the header had explicit fields: `<count>|{"id":...,"at":...,"events":[...]}`.
// Still read, so that an upgrade does not park what the previous version queued.
const LEGACY_AT = /^\d+\|\{"id":"(?:[^"\\]|\\.)*","at":(\d+)/;

/** When a raw message was accepted, read from its header without parsing it all; null when unknown. */
export function acceptedAtOf(raw: string | null): number | null {
  if (raw === null) return null;
  const match = /^\d+\|(\d+)\|/.exec(raw) ?? LEGACY_AT.exec(raw.slice(0, 400));
  return match ? Number(match[1]) : null;
}

export type DecodedMessage =
  | { ok: true; raw: string; message: QueueMessage }
  | { ok: false; raw: string; count: number; reason: string };

const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

function looksLikeEvent(value: unknown): value is Event {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    isText(e.topic) && isText(e.event_id) && isText(e.timestamp) && isText(e.source) &&
    typeof e.payload === 'object' && e.payload !== null && !Array.isArray(e.payload)
  );
}

type Fields = { id: unknown; at: unknown; events: unknown; batches?: BatchPart[] | string };

/** The header's fields and the parsed events, or why they cannot be read. */
function fieldsOf(raw: string, bar: number): Fields | string {
  if (raw[bar + 1] === '{') {
    let envelope: Partial<Fields> | null;
    try {
      envelope = JSON.parse(raw.slice(bar + 1)) as Partial<Fields> | null;
    } catch {
      return 'not valid JSON';
    }
    if (typeof envelope !== 'object' || envelope === null || !raw.startsWith('{"id":"', bar + 1)) return 'not a {id, events} message';
    return { id: envelope.id, at: envelope.at, events: envelope.events };
  }
  const atEnd = raw.indexOf('|', bar + 1);
  const idEnd = atEnd < 0 ? -1 : raw.indexOf('|', atEnd + 1);
  if (idEnd < 0) return 'no <count>|<at>|<id>| header';
  const at = raw.slice(bar + 1, atEnd);
  if (!/^\d*$/.test(at)) return 'accepted-at is not a number';
  // A batch list (`<id>:<events>,...|`) or, at once, the events.
  const listEnd = raw.indexOf('|', idEnd + 1);
  const partsEnd = raw[idEnd + 1] !== '[' && listEnd > 0 && raw.slice(idEnd + 1, listEnd).includes(':') ? listEnd : idEnd;
  try {
    const fields: Fields = { id: raw.slice(atEnd + 1, idEnd), at: at === '' ? undefined : Number(at), events: JSON.parse(raw.slice(partsEnd + 1)) };
    if (partsEnd > idEnd) fields.batches = batchListOf(raw.slice(idEnd + 1, partsEnd));
    return fields;
  } catch {
    return 'events are not valid JSON';
  }
}

/** `b1:3,b2:1` as batches, or what is wrong with it. */
function batchListOf(text: string): BatchPart[] | string {
  const batches: BatchPart[] = [];
  for (const part of text.split(',')) {
    const match = /^([^|:,]+):([1-9]\d{0,6})$/.exec(part);
    if (!match) return `a batch in the batch list is not <id>:<events>: ${part.slice(0, 80)}`;
    batches.push({ id: match[1]!, events: Number(match[2]) });
  }
  return batches;
}

/**
 * Checks a message again as it leaves the queue (it may have been pushed by hand).
 * `count` of a refused message is the number of events the counters counted in for
 * it: its prefix when the body agrees with it, else 0 (garbage was never received).
 */
export function decodeMessage(raw: string): DecodedMessage {
  const bar = raw.indexOf('|');
  const prefix = bar > 0 && /^\d+$/.test(raw.slice(0, bar)) ? Number(raw.slice(0, bar)) : Number.NaN;
  const refuse = (reason: string, count = 0): DecodedMessage => ({ ok: false, raw, count, reason });
  if (!Number.isSafeInteger(prefix)) return refuse('no event count prefix');
  const fields = fieldsOf(raw, bar);
  if (typeof fields === 'string') return refuse(fields);
  const { id, at, events, batches } = fields;
  if (!isText(id) || id.includes('|') || !Array.isArray(events)) return refuse('not a {id, events} message');
  if (events.length !== prefix) return refuse('event count does not match its prefix');
  if (typeof batches === 'string') return refuse(batches, prefix);
  if (batches && batches.reduce((sum, b) => sum + b.events, 0) !== prefix) return refuse('the batch list does not add up to the event count', prefix);
  if (!events.every(looksLikeEvent)) return refuse('an event lacks a required field', prefix);
  const message: QueueMessage = typeof at === 'number' ? { id, at, events } : { id, events };
  if (batches) message.batches = batches;
  return { ok: true, raw, message };
}
