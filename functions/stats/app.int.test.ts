import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, event, postJson, type Harness } from '../../dev/harness.ts';

// GET /events and GET /stats over HTTP (app.request) on a real Redis and PostgreSQL:
// the query parameters, their errors, and the cursors.

let h: Harness;
beforeAll(async () => {
  h = await createHarness('stats-app');
  const events = [
    ...Array.from({ length: 5 }, (_, i) => event({ topic: 'orders', event_id: `a${i}`, source: i < 3 ? 'checkout' : 'refunds', timestamp: `2026-11-0${i + 1}T12:00:00+01:00` })),
    event({ topic: 'carts', event_id: 'a2', source: 'web' }),
    ...Array.from({ length: 3 }, (_, i) => event({ topic: 'misc', event_id: `m${i}` })),
  ];
  // One request per event keeps storage order the order above.
  for (const e of events) expect((await postJson(h.process, '/', e)).status).toBe(200);
});
afterAll(() => h?.cleanup());

const get = async (path: string) => {
  const response = await h.stats.request(path);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> & { events: Array<Record<string, string>>; next_cursor: string | null } };
};
const keys = (events: Array<Record<string, string>>) => events.map((e) => `${e.topic}/${e.event_id}`);

/** Every event a query lists, following next_cursor. */
async function readAll(query: string) {
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const { status, body } = await get(`/events?${query}&limit=2${cursor === null ? '' : `&after=${cursor}`}`);
    expect(status).toBe(200);
    seen.push(...keys(body.events));
    cursor = body.next_cursor;
  } while (cursor !== null);
  return seen;
}

describe('GET /events', () => {
  it('finds an event by event_id, in every topic or in one (no longer any other event)', async () => {
    expect(keys((await get('/events?event_id=a2')).body.events)).toEqual(['orders/a2', 'carts/a2']);
    expect(keys((await get('/events?event_id=a2&topic=carts')).body.events)).toEqual(['carts/a2']);
    expect((await get('/events?event_id=nothing')).body).toEqual({ events: [], next_cursor: null });
  });

  it('filters by source and by timestamp, since inclusive and until exclusive, offsets allowed', async () => {
    expect(await readAll('source=refunds')).toEqual(['orders/a3', 'orders/a4']);
    // a1 is at 2026-11-02T11:00Z and a3 at 2026-11-04T11:00Z.
    expect(await readAll('topic=orders&since=2026-11-02T12:00:00%2B01:00&until=2026-11-04T11:00:00Z')).toEqual(['orders/a1', 'orders/a2']);
    expect(await readAll('topic=orders&since=2026-11-02t11:00:00.000001z')).toEqual(['orders/a2', 'orders/a3', 'orders/a4']);
  });

  it('pages newest stored first with order=desc, the cursor working in that order', async () => {
    const asc = await readAll('order=asc');
    expect(asc).toHaveLength(9);
    expect(await readAll('order=desc')).toEqual([...asc].reverse());
    expect(await readAll('order=desc&topic=orders&source=checkout')).toEqual(['orders/a2', 'orders/a1', 'orders/a0']);
  });

  it.each([
    ['evnt_id=a2', 'evnt_id', /unknown parameter evnt_id/],
    ['topic=orders&topic=carts', 'topic', /more than once/],
    ['since=2026-11-01', 'since', /^since must be an RFC 3339/],
    ['until=2026-02-30T00:00:00Z', 'until', /^until day 30 does not exist/],
    ['order=newest', 'order', /order must be asc or desc/],
    ['source=', 'source', /source must not be empty/],
    [`event_id=${'x'.repeat(129)}`, 'event_id', /event_id must be at most 128/],
    ['limit=0', 'limit', /limit must be at least 1/],
    ['after=bm90IGEgY3Vyc29y', 'after', /not a cursor/],
    [`${'%3Cscript%3E'.repeat(10)}=1`, 'a parameter with an unusual name', /unknown parameter a parameter with an unusual name/],
  ])('?%s is a 400 invalid_query naming %s', async (query, parameter, message) => {
    const { status, body } = await get(`/events?${query}`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_query', parameter });
    expect(body.message).toMatch(message);
    expect(JSON.stringify(body)).not.toContain('xxxxxxxxxx');
  });
});

describe('GET /stats', () => {
  type Stats = { unique_processed: number; topics: Array<{ topic: string; unique_processed: number }>; topics_next_cursor?: string | null };
  const stats = async (query = '') => {
    const response = await h.stats.request(`/stats${query}`);
    return { status: response.status, body: (await response.json()) as Stats & Record<string, unknown> };
  };

  it('lists the busiest topics first, as many as topics_limit, totals over all topics', async () => {
    const { body } = await stats('?topics_limit=2');
    expect(body.unique_processed).toBe(9);
    expect(body.topics).toEqual([
      { topic: 'orders', unique_processed: 5, duplicate_dropped: 0 },
      { topic: 'misc', unique_processed: 3, duplicate_dropped: 0 },
    ]);
    expect(body).not.toHaveProperty('topics_next_cursor');
    expect((await stats()).body.topics.map((t) => t.topic)).toEqual(['orders', 'misc', 'carts']);
  });

  it('pages through every topic in name order with topics_order=name and topics_after', async () => {
    const first = await stats('?topics_order=name&topics_limit=2');
    expect(first.body.topics.map((t) => t.topic)).toEqual(['carts', 'misc']);
    const second = await stats(`?topics_order=name&topics_limit=2&topics_after=${first.body.topics_next_cursor}`);
    expect(second.body.topics.map((t) => t.topic)).toEqual(['orders']);
    expect(second.body.topics_next_cursor).toBeNull();
  });

  it.each([
    ['topics=all', 'topics'],
    ['topics_limit=1001', 'topics_limit'],
    ['topics_order=loudest', 'topics_order'],
    ['topics_after=dDpvcmRlcnM', 'topics_after'], // a real cursor, but the busiest list does not page
    ['topics_order=name&topics_after=garbage', 'topics_after'],
  ])('?%s is a 400 invalid_query naming %s', async (query, parameter) => {
    const { status, body } = await stats(`?${query}`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_query', parameter });
  });
});
