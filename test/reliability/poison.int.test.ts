import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { viewOf } from '../../shared/queue/dead-letter-view.ts';
import { encodeMessage, type QueueMessage } from '../../shared/queue/message.ts';
import { createHarness, event, postJson, type Harness } from '../../dev/harness.ts';
import { expectDrainedAndExact } from '../support/invariant.ts';
import { TEST_REDIS_URL } from '../../dev/services.ts';

const run = promisify(execFile);
let h: Harness;
let poller: ReturnType<Harness['startPoller']>;
beforeAll(async () => {
  h = await createHarness('poison', { MAX_ATTEMPTS: '2', MAX_QUEUE_LENGTH: '40' });
  poller = h.startPoller(2);
});
afterAll(async () => {
  await poller.stop();
  await h.cleanup();
});

/** The operator's tool, run as an operator runs it. */
const dlq = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/dlq.ts', ...args], { env: { ...process.env, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: h.config.queuePrefix } });

const ev = (id: string, extra: Record<string, unknown> = {}) => event({ topic: 'poison', event_id: id, ...extra }) as QueueMessage['events'][number];

describe('poison', () => {
  it('is parked with its reason and never blocks the good messages of its batch', async () => {
    await h.redis.lpush(h.queue.keys.queue, 'garbage pushed by hand');
    await h.queue.enqueue({ id: 'refused', events: [ev('bad-date', { timestamp: '2026-02-30T10:00:00Z' })] }, 1e6);
    expect((await postJson(h.ingest, '/', [ev('good-1'), ev('good-2')])).status).toBe(202);
    const s = await expectDrainedAndExact(h.queue, h.db);
    expect(s).toMatchObject({ received: 3, unique: 2, dead: 1 });

    const { stdout } = await dlq('list');
    const letters = await h.queue.deadLetters();
    expect(letters).toHaveLength(2);
    // Readable, not the internal encoding: id, size, attempts, reason, then the batch and its first keys.
    for (const letter of letters) expect(stdout).toContain(`${letter.id}  ${letter.at}  ${letter.events} events  ${letter.attempts} attempts  ${letter.reason}`);
    expect(stdout).toContain('invalid message: no event count prefix');
    expect(stdout).toMatch(/refused by PostgreSQL: 22008 /);
    expect(stdout).toContain('keys: poison/bad-date');
    expect(stdout).toContain('no batch_id  keys: unreadable: "garbage pushed by hand"');
    expect(stdout).not.toContain('"payload"');
    expect(stdout.trim().split('\n').at(-1)).toBe('2 dead letters; dead_lettered = 1 events');
  });

  it('a message claimed too often without an acknowledgement is parked, and replay brings it back', async () => {
    const crashy: QueueMessage = { id: 'crashy', events: [ev('crash-1'), ev('crash-2')] };
    // As if two workers had died on it: its attempts are spent.
    await h.redis.hset(h.queue.keys.attempts, 'crashy', '2');
    await h.queue.enqueue(crashy, 1e6);
    let s = await expectDrainedAndExact(h.queue, h.db);
    expect(s).toMatchObject({ received: 5, unique: 2, dead: 3 });

    const letter = (await h.queue.deadLetters()).find((l) => l.raw === encodeMessage(crashy));
    expect(letter).toMatchObject({ reason: 'no acknowledgement after 2 attempts', attempts: 2, events: 2 });
    // A letter that arrives meanwhile shifts positions, never ids.
    await h.redis.lpush(h.queue.keys.dead, JSON.stringify({ raw: 'x', reason: 'newer', attempts: 1, events: 0, claim_id: 'c', at: new Date().toISOString() }));
    const { stderr } = await dlq('replay', letter!.id);
    expect(stderr).toContain('replayed 1 dead letters');
    s = await expectDrainedAndExact(h.queue, h.db);
    expect(s).toMatchObject({ received: 5, unique: 4, dead: 1 });
  });

  it('drop deletes dead letters for good and keeps them counted', async () => {
    const { stderr } = await dlq('drop', '--all');
    expect(stderr).toContain('dropped 3 dead letters');
    expect(await h.queue.deadLetters()).toEqual([]);
    const s = await expectDrainedAndExact(h.queue, h.db);
    expect(s.dead).toBe(1);
  });

  it('the tool refuses an id that does not exist, and says when there are no dead letters', async () => {
    await expect(dlq('replay', '7')).rejects.toMatchObject({ stderr: expect.stringContaining('no dead letter with id 7') });
    expect((await dlq('list')).stdout).toBe('0 dead letters; dead_lettered = 1 events\n');
  });
});

describe('a request the store refuses, in a message with others of its turn', () => {
  let joined: Harness;
  let joinedPoller: ReturnType<Harness['startPoller']> | undefined;
  beforeAll(async () => {
    joined = await createHarness('poison-joined');
  });
  afterAll(async () => {
    await joinedPoller?.stop();
    await joined.cleanup();
  });

  it('parks the message with all its requests; a replay brings each back alone, and only the culprit is parked again', async () => {
    const requests = [
      { id: 'joined-a', events: [ev('ja-1'), ev('ja-2')] },
      { id: 'joined-bad', events: [ev('jbad', { timestamp: '2026-02-30T10:00:00Z' })] },
      { id: 'joined-c', events: [ev('jc-1')] },
    ];
    // Enqueued in one turn: one message.
    expect(await Promise.all(requests.map((r) => joined.queue.enqueue(r, 1e6)))).toEqual(['queued', 'queued', 'queued']);
    joinedPoller = joined.startPoller(1);
    let s = await expectDrainedAndExact(joined.queue, joined.db);
    expect(s).toMatchObject({ received: 4, unique: 0, dead: 4 });
    const [letter, ...none] = await joined.queue.deadLetters();
    expect(none).toEqual([]);
    expect(viewOf(letter!)).toMatchObject({ batch_id: 'joined-a', batch_ids: ['joined-a', 'joined-bad', 'joined-c'], events: 4 });

    expect(await joined.queue.replay(letter!)).toBe(true);
    s = await expectDrainedAndExact(joined.queue, joined.db);
    expect(s).toMatchObject({ received: 4, unique: 3, dead: 1 });
    const letters = (await joined.queue.deadLetters()).map(viewOf);
    expect(letters).toEqual([expect.objectContaining({ batch_id: 'joined-bad', batch_ids: ['joined-bad'], events: 1, reason: expect.stringMatching(/^refused by PostgreSQL: 22008/) })]);
  });
});

describe('overload', () => {
  it('answers 429 with Retry-After past MAX_QUEUE_LENGTH, and counts nothing of the refused request', async () => {
    await poller.stop();
    const events = Array.from({ length: 30 }, (_, i) => ev(`load-${i}`));
    expect((await postJson(h.ingest, '/', events)).status).toBe(202);
    const before = await h.queue.counters();
    const refused = await postJson(h.ingest, '/', events.slice(0, 20));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({ error: 'backpressure', message: expect.any(String) });
    expect(await h.queue.counters()).toEqual(before);
  });
});
