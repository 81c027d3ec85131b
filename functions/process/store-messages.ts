import type { Kysely } from 'kysely';
import type { Database } from '../../shared/db/database.ts';
import { parkedAmong } from '../../shared/db/message.repository.ts';
import { storeStatement } from '../../shared/db/store.repository.ts';
import { batchesOf, type QueueMessage } from '../../shared/queue/message.ts';
import type { EventStatus, MessageOutcome } from '../../shared/queue/outcomes.ts';

export type StoreOutcome = {
  /** What became of the events of each request (batch) this transaction stored or dropped. */
  committed: MessageOutcome[];
  /** Messages already committed by an earlier delivery: nothing of them is counted again. */
  redelivered: number;
  /** Messages to dead-letter, never stored: recorded as parked now or by an earlier parking. */
  parked: QueueMessage[];
  events: number;
  unique: number;
  duplicates: number;
};

const keyOf = (e: { topic: string; event_id: string }) => `${e.topic}\u0000${e.event_id}`;

/**
 * The exactly-once decision for a group of claimed messages, in one statement (its own
 * transaction; see storeStatement for a caller's):
 *
 * - Each message id is recorded once. A new id is stored (or parked, when it is in
 *   `park`). An id seen before was parked earlier, then it is parked again (its dead
 *   letter may never have reached Redis), or committed earlier, then it is skipped
 *   whole: a redelivery changes no counter.
 * - Of the stored messages' events, the first of each key in arrival order is
 *   inserted unless the key is stored already; every other is a duplicate.
 * - The per-topic counts go to this worker's counter shard in the same statement.
 *
 * Recording the id of a message to park is what makes "parked" and "committed by a
 * late worker" exclude each other, whichever comes first. A statement whose answer is
 * lost (the connection drops) is ambiguous: the caller retries, and the recorded
 * message ids make the retry a no-op if it did commit.
 *
 * @example const outcome = await storeMessages(db, messages, 3, new Set())
 */
export async function storeMessages(
  db: Kysely<Database>, messages: QueueMessage[], shard: number, park: ReadonlySet<string>,
): Promise<StoreOutcome> {
  const byId = new Map<string, QueueMessage>();
  for (const message of messages) if (!byId.has(message.id)) byId.set(message.id, message); // an id twice in one claim is one message
  const events = [...byId.values()].flatMap((message) => message.events.map((event) => ({ event, messageId: message.id })));
  const { recorded, inserted: keys } = await storeStatement(db, { messageIds: [...byId.keys()], park, events, shard });
  // Read after the store: an id it found recorded by a worker still at work was waited for, and is committed
  // now. Only claims with such ids (redeliveries) read it; if that read fails, the caller's retry finds the
  // messages committed and reports them redelivered (the counters stay exact, as after a lost COMMIT answer).
  const parkedBefore = await parkedAmong(db, [...byId.keys()].filter((id) => !recorded.has(id)));

  const fresh: QueueMessage[] = [];
  const parked: QueueMessage[] = [];
  for (const message of byId.values()) {
    if (parkedBefore.has(message.id) || (recorded.has(message.id) && park.has(message.id))) parked.push(message);
    else if (recorded.has(message.id)) fresh.push(message);
  }

  const inserted = new Set(keys.map(keyOf));
  let unique = 0;
  let total = 0;
  const committed = fresh.flatMap((message) => batchesOf(message).map((batch) => ({
    batchId: batch.id,
    results: batch.events.map((e): EventStatus => {
      total++;
      // The first occurrence of an inserted key is the stored one; the set forgets it at once.
      if (inserted.delete(keyOf(e))) {
        unique++;
        return 'stored';
      }
      return 'duplicate';
    }),
  })));

  return { committed, redelivered: byId.size - fresh.length - parked.length, parked, events: total, unique, duplicates: total - unique };
}
