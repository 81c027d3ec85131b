import type { Event } from '../event/event.schema.ts';

/** One queue message: the events of one accepted request, and when it was accepted (ms since epoch). */
export type QueueMessage = { id: string; at?: number; events: Event[] };

/**
 * A message travels as `<event count>|<json>`: the count lets the claim script
 * size a batch in events without decoding JSON inside Redis.
 *
 * @example encodeMessage({ id: 'b1', events }) // '3|{"id":"b1","events":[...]}'
 */
export function encodeMessage(message: QueueMessage): string {
  // Fields in a fixed order: scripts and acceptedAtOf read `id` and `at` from the start of the text.
  const envelope = message.at === undefined ? { id: message.id, events: message.events } : { id: message.id, at: message.at, events: message.events };
  return `${message.events.length}|${JSON.stringify(envelope)}`;
}

/** When a raw message was accepted, read from its first bytes without parsing it all; null when unknown. */
export function acceptedAtOf(raw: string | null): number | null {
  const match = raw === null ? null : /^\d+\|\{"id":"(?:[^"\\]|\\.)*","at":(\d+)/.exec(raw.slice(0, 400));
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

/**
 * Checks a message again as it leaves the queue (it may have been pushed by hand).
 * `count` of a refused message is the number of events the counters counted in for
 * it: its prefix when the body agrees with it, else 0 (garbage was never received).
 */
export function decodeMessage(raw: string): DecodedMessage {
  const bar = raw.indexOf('|');
  const prefix = bar > 0 ? Number(raw.slice(0, bar)) : Number.NaN;
  const refuse = (reason: string, count = 0): DecodedMessage => ({ ok: false, raw, count, reason });
  if (!Number.isSafeInteger(prefix) || prefix < 0) return refuse('no event count prefix');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.slice(bar + 1));
  } catch {
    return refuse('not valid JSON');
  }
  const m = parsed as Partial<QueueMessage> | null;
  // The scripts find a message's id by its place (`N|{"id":...`): another field order would go unseen by them.
  const envelope = raw.startsWith('{"id":"', bar + 1);
  if (!envelope || typeof m !== 'object' || m === null || !isText(m.id) || !Array.isArray(m.events)) return refuse('not a {id, events} message');
  if (m.events.length !== prefix) return refuse('event count does not match its prefix');
  if (!m.events.every(looksLikeEvent)) return refuse('an event lacks a required field', prefix);
  return { ok: true, raw, message: m as QueueMessage };
}
