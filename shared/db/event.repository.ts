import type { Db } from './database.ts';

export type EventKey = { topic: string; event_id: string };

/** Orders events by key, topic then event id, by code unit: the byte order of the key columns (`COLLATE "C"`). */
export const byKey = (a: EventKey, b: EventKey) =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0;

/** How many unique events are stored: the invariant's check on `unique_processed`. */
export async function countEvents(db: Db): Promise<number> {
  const row = await db.selectFrom('events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
