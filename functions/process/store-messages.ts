import type { Transaction } from 'kysely';
import { addToCounters, type TopicCounts } from '../../shared/db/counter-write.repository.ts';
import type { Database, Db } from '../../shared/db/database.ts';
import { insertNewEvents } from '../../shared/db/event.repository.ts';
import { parkedAmong, recordMessageIds } from '../../shared/db/message.repository.ts';
import type { Event } from '../../shared/event/event.schema.ts';
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
 * The exactly-once decision for a group of claimed messages, inside one transaction:
 *
 * - Each message id is recorded once. A new id is stored (or parked, when it is in
 *   `park`). An id seen before was parked earlier, then it is parked again (its dead
 *   letter may never have reached Redis), or committed earlier, then it is skipped
 *   whole: a redelivery changes no counter.
 * - Of the stored messages' events, the first of each key in arrival order is
 *   inserted unless the key is stored already; every other is a duplicate.
 * - The per-topic counts go to this worker's counter shard in the same transaction.
 *
 * Recording the id of a message to park is what makes "parked" and "committed by a
 * late worker" exclude each other, whichever comes first.
 *
 * @example await db.transaction().execute((trx) => storeMessages(trx, messages, 3, new Set()))
 */
export async function storeMessages(
  trx: Transaction<Database>, messages: QueueMessage[], shard: number, park: ReadonlySet<string>,
): Promise<StoreOutcome> {
  const ids = messages.map((m) => m.id);
  const recorded = await recordMessageIds(trx, ids, park);
  const parkedBefore = await parkedAmong(trx, [...new Set(ids)].filter((id) => !recorded.has(id)));

  const fresh: QueueMessage[] = [];
  const parked: QueueMessage[] = [];
  const seen = new Set<string>();
  for (const message of messages) {
    if (seen.has(message.id)) continue; // an id twice in one claim is one message
    seen.add(message.id);
    if (parkedBefore.has(message.id) || (recorded.has(message.id) && park.has(message.id))) parked.push(message);
    else if (recorded.has(message.id)) fresh.push(message);
  }

  const firstOfKey = new Map<string, Event>();
  for (const message of fresh) {
    for (const e of message.events) {
      const key = keyOf(e); // built once an event: this loop runs for every event of the claim
      if (!firstOfKey.has(key)) firstOfKey.set(key, e);
    }
  }
  const inserted = new Set((await insertNewEvents(trx, [...firstOfKey.values()])).map(keyOf));

  const perTopic = new Map<string, TopicCounts>();
  let unique = 0;
  let events = 0;
  const committed = fresh.flatMap((message) => batchesOf(message).map((batch) => ({
    batchId: batch.id,
    results: batch.events.map((e): EventStatus => {
      const counts = perTopic.get(e.topic) ?? { unique: 0, duplicates: 0 };
      perTopic.set(e.topic, counts);
      events++;
      // The first occurrence of an inserted key is the stored one; the set forgets it at once.
      if (inserted.delete(keyOf(e))) {
        counts.unique++;
        unique++;
        return 'stored';
      }
      counts.duplicates++;
      return 'duplicate';
    }),
  })));
  await addToCounters(trx, perTopic, shard);

  return { committed, redelivered: seen.size - fresh.length - parked.length, parked, events, unique, duplicates: events - unique };
}

/**
 * `storeMessages` in a transaction of its own. A COMMIT whose answer is lost (the
 * connection drops) is ambiguous: the caller retries, and the recorded message ids
 * make the retry a no-op if it did commit.
 *
 * @example const outcome = await storeInTransaction(db, messages, 3, new Set())
 */
export function storeInTransaction(db: Db, messages: QueueMessage[], shard: number, park: ReadonlySet<string>): Promise<StoreOutcome> {
  return db.transaction().execute((trx) => storeMessages(trx, messages, shard, park));
}
