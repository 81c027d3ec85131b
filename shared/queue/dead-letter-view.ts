import { batchesOf, decodeMessage } from './message.ts';
import type { EventQueue, ParkedLetter } from './queue.ts';

/** How many event keys a letter shows: enough to recognise it, few enough to list many. */
export const FIRST_KEYS = 3;

/**
 * A dead letter as an operator reads it (the dashboard, GET /dead-letters, `npm run dlq -- list`):
 * never the queue's internal encoding. `batch_ids` (the requests whose events the message holds, one
 * unless ingest put several accepted in one turn together), `batch_id` (the first of them) and
 * `first_keys` come from the parked message; a message that cannot be decoded has no batch ids, no
 * keys, and `unreadable` says why.
 */
export type LetterView = {
  id: string;
  at: string;
  reason: string;
  attempts: number;
  events: number;
  batch_id: string | null;
  batch_ids: string[];
  first_keys: Array<{ topic: string; event_id: string }>;
  unreadable: string | null;
};

export function viewOf(letter: ParkedLetter): LetterView {
  const decoded = decodeMessage(letter.raw);
  const common = { id: letter.id, at: letter.at, reason: letter.reason, attempts: letter.attempts, events: letter.events };
  if (!decoded.ok) return { ...common, batch_id: null, batch_ids: [], first_keys: [], unreadable: decoded.reason };
  const first_keys = decoded.message.events.slice(0, FIRST_KEYS).map(({ topic, event_id }) => ({ topic, event_id }));
  const batch_ids = batchesOf(decoded.message).map((b) => b.id);
  return { ...common, batch_id: batch_ids[0]!, batch_ids, first_keys, unreadable: null };
}

/** A letter id as the queue derives them (12 hex digits): anything else names no letter, without a read. */
export const LETTER_ID = /^[0-9a-f]{12}$/;

/** The parked letter with this id, or null when none is (any more). */
export async function findLetter(queue: EventQueue, id: string): Promise<ParkedLetter | null> {
  if (!LETTER_ID.test(id)) return null;
  return (await queue.deadLetters()).find((letter) => letter.id === id) ?? null;
}

/** The newest `limit` letters as views, and how many are parked in all. */
export async function listLetters(queue: EventQueue, limit: number): Promise<{ letters: LetterView[]; total: number }> {
  const [letters, total] = await Promise.all([queue.deadLetters(limit), queue.redis.llen(queue.keys.dead)]);
  return { letters: letters.map(viewOf), total };
}
