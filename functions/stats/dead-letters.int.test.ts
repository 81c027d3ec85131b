import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parkLetter } from '../../test/support/dead-letters.ts';
import { createHarness, event, type Harness } from '../../dev/harness.ts';
import { snapshot } from '../../dev/invariant.ts';
import { expectDrainedAndExact } from '../../test/support/invariant.ts';

// The dead letters over HTTP (app.request) on a real Redis and PostgreSQL: the list a
// read key sees, and replay and drop, which take an ingest key and keep the counters exact.

const READ = { authorization: 'Bearer read-key' };
const INGEST = { authorization: 'Bearer ingest-key' };

let h: Harness;
beforeAll(async () => {
  h = await createHarness('stats-dead-letters', { READ_API_KEYS: 'read-key', INGEST_API_KEYS: 'ingest-key' });
});
afterAll(() => h?.cleanup());

type View = { id: string; events: number; batch_id: string | null; first_keys: Array<{ topic: string; event_id: string }> };
const call = async (method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}) => {
  const response = await h.stats.request(path, { method, headers });
  return { status: response.status, text: await response.clone().text(), body: (await response.json()) as Record<string, unknown> & { dead_letters: View[]; total: number } };
};
const listed = async () => (await call('GET', '/dead-letters', READ)).body.dead_letters.map((l) => l.id);
const events = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => event({ topic: 'letters', event_id: `${prefix}-${i}` }));

describe('GET /dead-letters', () => {
  it('lists the newest first in a readable shape, as many as limit, with the total', async () => {
    const older = await parkLetter(h.queue, events('old', 1), 'too many attempts');
    const newer = await parkLetter(h.queue, events('new', 5));
    const { status, body, text } = await call('GET', '/dead-letters', READ);
    expect(status).toBe(200);
    expect(body.total).toBe(2);
    expect(body.dead_letters).toEqual([
      {
        id: newer.id, at: newer.at, reason: 'the store refused it (test)', attempts: 3, events: 5, batch_id: expect.any(String),
        batch_ids: [expect.any(String)], first_keys: [0, 1, 2].map((i) => ({ topic: 'letters', event_id: `new-${i}` })), unreadable: null,
      },
      expect.objectContaining({ id: older.id, reason: 'too many attempts', events: 1, first_keys: [{ topic: 'letters', event_id: 'old-0' }] }),
    ]);
    expect(text).not.toContain(newer.raw.slice(0, 20)); // never the queue's own encoding
    const one = await call('GET', '/dead-letters?limit=1', READ);
    expect(one.body).toMatchObject({ total: 2, dead_letters: [{ id: newer.id }] });
    for (const id of [older.id, newer.id]) expect((await call('POST', `/dead-letters/${id}/drop`, INGEST)).status).toBe(200);
  });

  it('shows a message that cannot be decoded as unreadable, with no batch_id, no keys and none of its text', async () => {
    const claim = await h.queue.enqueueClaimed({ id: 'to-garble', events: events('garbled', 1) }, 60_000, 1_000_000);
    if (claim === 'full') throw new Error('the queue is full');
    const dead = { raw: '1|secret-looking garbage', reason: 'not a message', attempts: 1, events: 1 };
    expect(await h.queue.ack(claim.claimId, { events: 1, deadLetters: [dead], messageIds: ['to-garble'] })).toBe(true);
    const { body, text } = await call('GET', '/dead-letters', READ);
    expect(body.dead_letters).toEqual([expect.objectContaining({ events: 1, batch_id: null, batch_ids: [], first_keys: [], unreadable: expect.stringMatching(/header/) })]);
    expect(text).not.toContain('secret-looking');
    expect((await call('POST', `/dead-letters/${body.dead_letters[0]?.id}/drop`, INGEST)).status).toBe(200);
  });

  it('needs a read key, and refuses a bad limit naming it', async () => {
    expect((await call('GET', '/dead-letters')).status).toBe(401);
    expect((await call('GET', '/dead-letters', INGEST)).status).toBe(401);
    for (const query of ['limit=0', 'limit=1001', 'limit=ten', 'page=2']) {
      const { status, body } = await call('GET', `/dead-letters?${query}`, READ);
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: 'invalid_query', parameter: query.split('=')[0] });
    }
  });
});

describe('POST /dead-letters/<id>/replay and /drop', () => {
  it('replays a letter: its events are pending again, then stored, and the counters stay exact', async () => {
    const letter = await parkLetter(h.queue, events('replayed', 4));
    const before = await snapshot(h.queue, h.db);
    const { status, body } = await call('POST', `/dead-letters/${letter.id}/replay`, INGEST);
    expect(status).toBe(200);
    expect(body).toMatchObject({ done: 'replayed', dead_letter: { id: letter.id, events: 4 } });
    expect(await snapshot(h.queue, h.db)).toMatchObject({ pending: before.pending + 4, dead: before.dead - 4 });
    expect(await listed()).not.toContain(letter.id);
    // The same letter is no longer there to replay twice.
    expect((await call('POST', `/dead-letters/${letter.id}/replay`, INGEST)).body).toMatchObject({ error: 'not_found' });

    const poller = h.startPoller(1);
    try {
      const after = await expectDrainedAndExact(h.queue, h.db);
      expect(after).toMatchObject({ unique: before.unique + 4, dead: before.dead - 4 });
    } finally {
      await poller.stop();
    }
    const stored = await h.stats.request('/events?topic=letters&limit=10', { headers: READ });
    expect(((await stored.json()) as { events: Array<{ event_id: string }> }).events.map((e) => e.event_id)).toEqual(events('replayed', 4).map((e) => e.event_id));
  });

  it('drops a letter: it is gone and its events stay counted in dead_lettered', async () => {
    const kept = await parkLetter(h.queue, events('kept', 1));
    const dropped = await parkLetter(h.queue, events('dropped', 2));
    const before = await snapshot(h.queue, h.db);
    const { status, body } = await call('POST', `/dead-letters/${dropped.id}/drop`, INGEST);
    expect(status).toBe(200);
    expect(body).toMatchObject({ done: 'dropped', dead_letter: { id: dropped.id, events: 2 } });
    expect(await listed()).toEqual([kept.id]);
    expect(await expectDrainedAndExact(h.queue, h.db)).toEqual(before);
    expect((await call('POST', `/dead-letters/${kept.id}/drop`, INGEST)).status).toBe(200);
  });

  it('takes an ingest key: no key or a read key is a 401 and changes nothing', async () => {
    const letter = await parkLetter(h.queue, events('guarded', 1));
    for (const action of ['replay', 'drop']) {
      for (const headers of [{}, READ, { authorization: 'Bearer wrong' }]) {
        const { status, body } = await call('POST', `/dead-letters/${letter.id}/${action}`, headers);
        expect(status).toBe(401);
        expect(body).toMatchObject({ error: 'unauthorized' });
      }
    }
    expect(await listed()).toEqual([letter.id]);
    expect((await call('POST', `/dead-letters/${letter.id}/drop`, INGEST)).status).toBe(200);
  });

  it.each([
    ['an unknown id', '0123456789ab'],
    ['upper-case hex', 'ABCDEF012345'],
    ['a path escape', '..%2F..%2Fstats'],
    ['a NUL', 'abc%00def'],
    ['markup', '%3Cscript%3Ealert(1)%3C%2Fscript%3E'],
    ['a huge id', 'f'.repeat(8_000)],
  ])('%s is a 404 not_found that echoes nothing and changes nothing', async (_what, id) => {
    const letter = await parkLetter(h.queue, events('hostile', 1));
    const before = await snapshot(h.queue, h.db);
    for (const action of ['replay', 'drop']) {
      const { status, body, text } = await call('POST', `/dead-letters/${id}/${action}`, INGEST);
      expect(status).toBe(404);
      expect(body.error).toBe('not_found');
      expect(text).not.toContain(decodeURIComponent(id).slice(0, 12));
    }
    expect(await listed()).toEqual([letter.id]);
    expect(await snapshot(h.queue, h.db)).toEqual(before);
    expect((await call('POST', `/dead-letters/${letter.id}/drop`, INGEST)).status).toBe(200);
  });
});
