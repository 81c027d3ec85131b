import { sql } from 'kysely';
import type { Event } from '../event/event.schema.ts';
import type { Db } from './database.ts';

/** A stored event as the API returns it. */
export type StoredEvent = Event & { stored_at: string };

export type EventPage = { events: StoredEvent[]; nextSeq: string | null };

/** What GET /events filters on; every field narrows the page, none is required. */
export type EventFilter = {
  topic?: string | undefined;
  eventId?: string | undefined;
  source?: string | undefined;
  /** Events whose `timestamp` is at or after this instant (RFC 3339). */
  since?: string | undefined;
  /** Events whose `timestamp` is before this instant (RFC 3339). */
  until?: string | undefined;
};

export type EventQuery = EventFilter & {
  order: 'asc' | 'desc';
  /** The `seq` of the last event of the previous page, or null for the first page. */
  afterSeq: string | null;
  limit: number;
};

// RFC 3339 in UTC with as many fractional digits as the instant needs (PostgreSQL keeps microseconds).
const rfc3339Utc = (column: string) =>
  sql<string>`regexp_replace(to_char(${sql.ref(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '\\.?0+$', '') || 'Z'`;

/**
 * One page of stored events in storage order (`seq`), either way, after the
 * given `seq` (keyset pagination: a page costs the same at any depth). Each
 * filter is served by an index (migration 2026-11-30T02-00).
 *
 * @example await listEvents(db, { topic: 'orders', source: 'checkout', order: 'desc', afterSeq: null, limit: 100 })
 */
export async function listEvents(db: Db, query: EventQuery): Promise<EventPage> {
  const rows = await eventPageQuery(db, query).execute();
  const page = rows.slice(0, query.limit);
  const events = page.map(({ seq: _seq, ...event }) => event);
  return { events, nextSeq: rows.length > query.limit ? (page.at(-1)?.seq ?? null) : null };
}

/** The statement behind a page, one row more than asked (to know whether another page follows); also for EXPLAIN. */
export function eventPageQuery(db: Db, query: EventQuery) {
  const desc = query.order === 'desc';
  let q = db
    .selectFrom('events')
    .select(['seq', 'topic', 'event_id', 'source', 'payload'])
    .select([rfc3339Utc('timestamp').as('timestamp'), rfc3339Utc('stored_at').as('stored_at')])
    .orderBy('seq', query.order)
    .limit(query.limit + 1);
  if (query.afterSeq !== null) q = q.where('seq', desc ? '<' : '>', query.afterSeq);
  if (query.topic !== undefined) q = q.where('topic', '=', query.topic);
  if (query.eventId !== undefined) q = q.where('event_id', '=', query.eventId);
  if (query.source !== undefined) q = q.where('source', '=', query.source);
  if (query.since !== undefined) q = q.where('timestamp', '>=', sql<Date>`${query.since}::timestamptz`);
  if (query.until !== undefined) q = q.where('timestamp', '<', sql<Date>`${query.until}::timestamptz`);
  return q;
}
