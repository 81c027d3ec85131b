import { randomUUID } from 'node:crypto';
import type { Event } from '../../shared/event/event.schema.ts';
import type { EventQueue, ParkedLetter } from '../../shared/queue/queue.ts';

/**
 * Parks a message of `events` as a worker does when it gives up on one: counted in
 * (received, pending), claimed, and acknowledged as a dead letter (pending → dead_lettered).
 * Claimed in the same step as it is queued, so a running poller never sees it.
 *
 * @example const letter = await parkLetter(queue, [event({ event_id: 'x' })]);
 */
export async function parkLetter(queue: EventQueue, events: Event[], reason = 'the store refused it (test)'): Promise<ParkedLetter> {
  const id = randomUUID();
  const claim = await queue.enqueueClaimed({ id, at: Date.now(), events }, 60_000, Number.MAX_SAFE_INTEGER);
  if (claim === 'full') throw new Error('the queue is full');
  const raw = claim.messages[0] as string;
  const dead = { raw, reason, attempts: 3, events: events.length };
  if (!(await queue.ack(claim.claimId, { events: events.length, deadLetters: [dead], messageIds: [id] }))) throw new Error('the claim was lost');
  const letter = (await queue.deadLetters()).find((l) => l.raw === raw);
  if (!letter) throw new Error('the letter was not parked');
  return letter;
}
