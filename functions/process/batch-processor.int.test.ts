import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countEvents } from '../../shared/db/event.repository.ts';
import { decodeMessage, encodeMessage, type QueueMessage } from '../../shared/queue/message.ts';
import { createHarness, event, postJson, type Harness } from '../../dev/harness.ts';
import { waitFor } from '../../dev/wait.ts';
import { createIngestApp } from '../ingest/app.ts';
import { createBatchProcessor } from './batch-processor.ts';
import { StoreGaveUpError } from './errors.ts';
import { storeMessages } from './store-messages.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness('processor', { MAX_ATTEMPTS: '3' });
});
afterAll(() => h.cleanup());

const never = new AbortController().signal;
const message = (id: string, ids: string[], topic = 'p'): QueueMessage => ({
  id,
  events: ids.map((eventId) => event({ topic, event_id: eventId }) as QueueMessage['events'][number]),
});
const claimAll = async () => (await h.queue.claim({ maxMessages: 100, maxEvents: 10_000, leaseMs: 10_000 }))!;
const invariant = async () => {
  const c = await h.queue.counters();
  const pg = await h.db.selectFrom('topic_counters').select((eb) => [eb.fn.sum<string>('unique_count').as('u'), eb.fn.sum<string>('duplicate_count').as('d')]).executeTakeFirstOrThrow();
  const unique = Number(pg.u ?? 0);
  expect(c.received).toBe(unique + Number(pg.d ?? 0) + c.pending + c.deadLettered);
  expect(await countEvents(h.db)).toBe(unique);
};

describe('processBatch', () => {
  it('stores a batch, acknowledges it and keeps the invariant', async () => {
    await h.queue.enqueue(message('ok-1', ['a', 'b', 'a']), 1000);
    await h.queue.enqueue(message('ok-2', ['b', 'c']), 1000);
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ messages: 2, events: 5, unique: 3, duplicates: 2, deadLettered: 0, redelivered: 0, acknowledged: true });
    expect((await h.queue.counters()).pending).toBe(0);
    await invariant();
  });

  it('recognises a redelivered batch that was already committed and only acknowledges it', async () => {
    await h.queue.enqueue(message('again', ['x', 'y']), 1000);
    const first = await claimAll();
    // A worker that committed and died before its acknowledgement: the same messages come back.
    await storeMessages(h.db, [message('again', ['x', 'y'])], 1, new Set());
    await h.queue.release(first.claimId);
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ events: 0, unique: 0, duplicates: 0, redelivered: 1, acknowledged: true });
    await invariant();
  });

  it('parks a message PostgreSQL refuses and stores the rest of its batch', async () => {
    const poison: QueueMessage = { id: 'poison', events: [event({ topic: 'p', event_id: 'bad', timestamp: '2026-02-30T00:00:00Z' }) as QueueMessage['events'][number]] };
    await h.queue.enqueue(message('good-1', ['g1']), 1000);
    await h.queue.enqueue(poison, 1000);
    await h.queue.enqueue(message('good-2', ['g2']), 1000);
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ events: 2, unique: 2, deadLettered: 1, acknowledged: true });
    const [dead] = await h.redis.lrange(h.queue.keys.dead, 0, -1);
    expect(JSON.parse(dead!)).toMatchObject({ reason: expect.stringContaining('refused by PostgreSQL'), events: 1, raw: encodeMessage(poison) });
    await invariant();
  });

  it('parks garbage pushed by hand without counting it as received', async () => {
    await h.redis.lpush(h.queue.keys.queue, 'not a message at all');
    await h.queue.enqueue(message('beside-garbage', ['z']), 1000);
    const before = await h.queue.counters();
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ unique: 1, deadLettered: 0, acknowledged: true });
    expect(await h.queue.counters()).toEqual({ ...before, pending: before.pending - 1 });
    const dead = (await h.redis.lrange(h.queue.keys.dead, 0, -1)).map((d) => JSON.parse(d) as { reason: string; raw: string });
    expect(dead.find((d) => d.raw === 'not a message at all')?.reason).toBe('invalid message: no event count prefix');
    await invariant();
  });

  it('parks a message claimed too often without an acknowledgement', async () => {
    await h.queue.enqueue(message('crashy', ['c1', 'c2']), 1000);
    await h.redis.hset(h.queue.keys.attempts, 'crashy', '3');
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ events: 0, deadLettered: 2, acknowledged: true });
    expect(await h.redis.hget(h.queue.keys.attempts, 'crashy')).toBeNull();
    await invariant();
    // A worker that held it long ago and commits only now finds it parked, and stores nothing of it.
    const late = await storeMessages(h.db, [message('crashy', ['c1', 'c2'])], 2, new Set());
    expect(late).toMatchObject({ committed: [], unique: 0 });
    expect(late.parked.map((m) => m.id)).toEqual(['crashy']);
    await invariant();
  });

  it('parks again a message whose first parking never reached Redis (its acknowledgement was lost)', async () => {
    await h.queue.enqueue(message('lost-park', ['p1', 'p2']), 1000);
    // The first parking committed its record, then the worker died before its acknowledgement.
    await storeMessages(h.db, [message('lost-park', ['p1', 'p2'])], 4, new Set(['lost-park']));
    await h.redis.hset(h.queue.keys.attempts, 'lost-park', '4');
    const before = await h.queue.counters();
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ deadLettered: 2, redelivered: 0, acknowledged: true });
    expect(await h.queue.counters()).toEqual({ ...before, pending: before.pending - 2, deadLettered: before.deadLettered + 2 });
    await invariant();
  });

  it('does not park a message over its attempts that a late worker already committed', async () => {
    await h.queue.enqueue(message('late', ['l1']), 1000);
    await storeMessages(h.db, [message('late', ['l1'])], 3, new Set());
    await h.redis.hset(h.queue.keys.attempts, 'late', '3');
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ deadLettered: 0, redelivered: 1, acknowledged: true });
    await invariant();
  });
});

describe('processBatch at its edges', () => {
  const drain = async (processBatch = h.processBatch) => {
    for (let claim = await claimAll(); claim; claim = (await h.queue.claim({ maxMessages: 100, maxEvents: 10_000, leaseMs: 10_000 }))!) {
      await processBatch(claim, 0, never).catch(() => undefined);
    }
  };

  it('parks a lone garbage message instead of losing it', async () => {
    await h.redis.lpush(h.queue.keys.queue, 'garbage alone');
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ events: 0, deadLettered: 0, acknowledged: true });
    expect((await h.queue.deadLetters()).map((d) => d.raw)).toContain('garbage alone');
    expect(await h.queue.depth()).toEqual({ queuedMessages: 0, batchesInFlight: 0 });
    await invariant();
  });

  it('tells each committed message its per-event outcomes, and nothing of parked or redelivered ones', async () => {
    const told: Array<{ batchId: string; results: string[] }> = [];
    const processBatch = createBatchProcessor({ ...h, onCommitted: (outcomes) => void told.push(...outcomes) });
    await storeMessages(h.db, [message('told-before', ['t0'], 'told')], 0, new Set());
    await h.queue.enqueue(message('told-before', ['t0'], 'told'), 1000); // redelivered after its commit
    await h.queue.enqueue(message('told-1', ['t1', 't0', 't1'], 'told'), 1000);
    await h.queue.enqueue(message('told-2', ['t2', 't1'], 'told'), 1000);
    await h.queue.enqueue(message('told-parked', ['t9'], 'told'), 1000);
    await h.redis.hset(h.queue.keys.attempts, 'told-parked', '3');
    const result = await processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ unique: 2, duplicates: 3, redelivered: 1, deadLettered: 0 });
    // A message with attempts is claimed alone, after the others.
    expect(await processBatch(await claimAll(), 0, never)).toMatchObject({ deadLettered: 1 });
    expect(told).toEqual([
      { batchId: 'told-1', results: ['stored', 'duplicate', 'duplicate'] },
      { batchId: 'told-2', results: ['stored', 'duplicate'] },
    ]);
    await invariant();
  });

  it('counts poison once and every commit of the claim when a transient error strikes midway', async () => {
    await sql.raw(`
      CREATE SEQUENCE flaky_seq;
      CREATE FUNCTION flaky() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.event_id = 'flaky-g2' AND nextval('flaky_seq') = 1 THEN RAISE EXCEPTION 'serialization' USING ERRCODE = '40001'; END IF;
        RETURN NEW; END $$;
      CREATE TRIGGER flaky BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION flaky()`).execute(h.db);
    const poison: QueueMessage = { id: 'flaky-poison', events: [event({ topic: 'flaky', event_id: 'bad', timestamp: '2026-02-30T00:00:00Z' }) as QueueMessage['events'][number]] };
    await h.queue.enqueue(message('flaky-1', ['flaky-g1']), 1000);
    await h.queue.enqueue(poison, 1000);
    await h.queue.enqueue(message('flaky-2', ['flaky-g2']), 1000);
    // Split: [flaky-1] commits, [poison] is refused, [flaky-2] fails once for a reason worth retrying.
    const result = await h.processBatch(await claimAll(), 0, never);
    expect(result).toMatchObject({ events: 2, unique: 2, duplicates: 0, deadLettered: 1, acknowledged: true });
    expect((await h.queue.deadLetters()).filter((d) => d.raw === encodeMessage(poison))).toHaveLength(1);
    await invariant();
  });

  it('hands back a claim that fails for no outage, counting an attempt, until only the culprit is parked', async () => {
    const w = await createHarness('processor_wedge', { MAX_ATTEMPTS: '3', STORE_MAX_RETRIES: '1' });
    try {
      // A failure that is neither bad data nor an outage, every time (as a bug or a statement that always times out).
      await sql.raw(`
        CREATE FUNCTION wedge() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
          IF NEW.event_id = 'wedge' THEN RAISE EXCEPTION 'always' USING ERRCODE = 'XX000'; END IF;
          RETURN NEW; END $$;
        CREATE TRIGGER wedge BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION wedge()`).execute(w.db);
      await w.queue.enqueue(message('neighbour-1', ['n1']), 1000);
      await w.queue.enqueue(message('culprit', ['wedge']), 1000);
      await w.queue.enqueue(message('neighbour-2', ['n2']), 1000);
      const first = (await w.queue.claim({ maxMessages: 100, maxEvents: 10_000, leaseMs: 10_000 }))!;
      await expect(w.processBatch(first, 0, never)).rejects.toBeInstanceOf(StoreGaveUpError);
      expect(await w.queue.attempts(['neighbour-1', 'culprit', 'neighbour-2'])).toEqual([1, 1, 1]);
      for (let claim = await w.queue.claim({ maxMessages: 100, maxEvents: 10_000, leaseMs: 10_000 }); claim; claim = await w.queue.claim({ maxMessages: 100, maxEvents: 10_000, leaseMs: 10_000 })) {
        expect(claim.messages).toHaveLength(1); // retried messages are claimed alone
        await w.processBatch(claim, 0, never).catch((error: unknown) => expect(error).toBeInstanceOf(StoreGaveUpError));
      }
      const dead = await w.queue.deadLetters();
      expect(dead.map((d) => decodeMessage(d.raw)).map((d) => d.ok && d.message.id)).toEqual(['culprit']);
      expect(dead[0]).toMatchObject({ attempts: 3, reason: 'no acknowledgement after 3 attempts' });
      expect(await w.queue.counters()).toEqual({ received: 3, pending: 0, deadLettered: 1 });
      expect(await countEvents(w.db)).toBe(2);
    } finally {
      await w.cleanup();
    }
  });

  it('lets one grep of a batch_id follow a request from Enqueued event to Saved to DB', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const ingest = createIngestApp({ ...h, logger });
    const processBatch = createBatchProcessor({ ...h, logger });
    const answers = await Promise.all(['l1', 'l2'].map(async (id) => {
      const response = await postJson(ingest, '/', [event({ topic: 'grep', event_id: id })]);
      return ((await response.json()) as { batch_id: string }).batch_id;
    }));
    await drain(processBatch);
    for (const batchId of answers) {
      const found = lines.filter((line) => line.includes(batchId)).map((line) => JSON.parse(line) as { msg: string; claim_id?: string });
      expect(found.map((l) => l.msg)).toEqual(['Enqueued event', 'Saved to DB']);
      expect(found[1]!.claim_id).toEqual(expect.any(String));
      expect(found[1]!.claim_id).not.toBe(batchId);
    }
  });

  it('takes back the attempt when its lease was reaped while it lived (as when Redis was unreachable), and stores once', async () => {
    // An open transaction holding the key keeps the worker inside its store while its lease is reaped.
    const holder = await h.db.connection().execute(async (connection) => {
      await sql`BEGIN`.execute(connection);
      await sql`INSERT INTO events (topic, event_id, "timestamp", source, payload) VALUES ('outage', 'o1', now(), 's', '{}')`.execute(connection);
      await h.queue.enqueue(message('outlived', ['o1', 'o2'], 'outage'), 1000);
      const claim = await claimAll();
      const processing = h.processBatch(claim, 0, never);
      // The lease runs out unrenewed (the worker could not reach Redis) and a reaper takes it back.
      await waitFor(async () => {
        await h.redis.zadd(h.queue.keys.leases, '0', claim.claimId); // a renewal in between just means once more
        return (await h.queue.reapExpired()) === 1;
      }, { what: 'the lease to be reaped' });
      expect(await h.queue.attempts(['outlived'])).toEqual([1]);
      await sql`ROLLBACK`.execute(connection);
      return processing;
    });
    expect(holder).toMatchObject({ unique: 2, acknowledged: false });
    // The worker lived: its late acknowledgement took the attempt back.
    expect(await h.queue.attempts(['outlived'])).toEqual([0]);
    expect(await h.processBatch(await claimAll(), 0, never)).toMatchObject({ redelivered: 1, unique: 0, acknowledged: true });
    await invariant();
  });
});
