import type { Db } from './database.ts';

export type EventKey = { topic: string; event_id: string };

/** How many unique events are stored: the invariant's check on `unique_processed`. */
export async function countEvents(db: Db): Promise<number> {
  const row = await db.selectFrom('events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
