import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../dev/services.ts';
import { parkedAmong, pruneProcessedMessages } from './message.repository.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase('message_repository');
});
afterAll(() => t.drop());

const record = (ids: string[], parked: string[] = []) =>
  t.db.insertInto('processed_messages').values(ids.map((id) => ({ message_id: id, parked: parked.includes(id) }))).execute();
const count = async () => Number((await t.db.selectFrom('processed_messages').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
// Ages rows by the database's own clock.
const age = (prefix: string, interval: string) =>
  sql`UPDATE processed_messages SET processed_at = now() - ${interval}::interval WHERE message_id LIKE ${`${prefix}%`}`.execute(t.db);

describe('parkedAmong', () => {
  it('tells the ids recorded by a parking from those recorded by a commit', async () => {
    await record(['a', 'b', 'c'], ['b']);
    expect(await parkedAmong(t.db, ['a', 'b', 'c', 'unknown'])).toEqual(new Set(['b']));
  });
});

describe('pruneProcessedMessages', () => {
  it('forgets the ids older than the retention by the database clock, in chunks, and keeps the rest', async () => {
    await record(Array.from({ length: 25 }, (_, i) => `old-${i}`));
    await record(['recent-1']);
    await age('old-', '2 hours');
    await age('recent-', '30 minutes');
    const before = await count();
    expect(await pruneProcessedMessages(t.db, 3_600_000, 10)).toBe(25);
    expect(await count()).toBe(before - 25);
    expect((await t.db.selectFrom('processed_messages').select('message_id').where('message_id', 'like', 'recent-%').execute())).toHaveLength(1);
  });

  it('lets one runner at a time prune: another finds the lock taken and deletes nothing', async () => {
    await record(['late-1', 'late-2']);
    await age('late-', '2 hours');
    const holder = await t.db.connection().execute(async (connection) => {
      await sql`BEGIN`.execute(connection);
      await sql`SELECT pg_advisory_xact_lock(7340011)`.execute(connection);
      const whileHeld = await pruneProcessedMessages(t.db, 3_600_000);
      await sql`ROLLBACK`.execute(connection);
      return whileHeld;
    });
    expect(holder).toBe(0);
    expect(await pruneProcessedMessages(t.db, 3_600_000)).toBe(2);
  });
});
