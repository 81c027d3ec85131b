import type { Event } from '../event/event.schema.ts';

/** One queue message: the events of one accepted request, and when it was accepted (ms since epoch). */
export type QueueMessage = { id: string; at?: number; events: Event[] };

/**
 * A message travels as `<event count>|<accepted at>|<id>|<events as JSON>`: the
 * header's fields are explicit, so the Lua scripts (which size claims in events and
 * count attempts by id) and `acceptedAtOf` read them without decoding JSON.
 * An id holds no `|`; `accepted at` is empty when unknown.
 *
 * @example encodeMessage({ id: 'b1', at: 1764489600000, events }) // '3|1764489600000|b1|[...]'
 */
export function encodeMessage(message: QueueMessage): string {
  if (message.id.length === 0 || message.id.includes('|')) throw new Error(`a message id must be non-empty without "|": ${message.id}`);
  return `${message.events.length}|${message.at ?? ''}|${message.id}|${JSON.stringify(message.events)}`;
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

type Fields = { id: unknown; at: unknown; events: unknown };

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
  try {
    return { id: raw.slice(atEnd + 1, idEnd), at: at === '' ? undefined : Number(at), events: JSON.parse(raw.slice(idEnd + 1)) };
  } catch {
    return 'events are not valid JSON';
  }
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
  const { id, at, events } = fields;
  if (!isText(id) || id.includes('|') || !Array.isArray(events)) return refuse('not a {id, events} message');
  if (events.length !== prefix) return refuse('event count does not match its prefix');
  if (!events.every(looksLikeEvent)) return refuse('an event lacks a required field', prefix);
  return { ok: true, raw, message: typeof at === 'number' ? { id, at, events } : { id, events } };
}
