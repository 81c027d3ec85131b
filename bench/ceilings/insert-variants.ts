import pg from 'pg';
import { createDb } from '../../shared/db/database.ts';
import { storeMessages } from '../../functions/process/store-messages.ts';
import type { Event } from '../../shared/event/event.schema.ts';
import { decodeMessage, type QueueMessage } from '../../shared/queue/message.ts';
import { copyFromStdin, copyText } from './copy-from-stdin.ts';

/** One statement's worth of input: the events, and the same events as the queue messages a worker claims. */
export type CeilingBatch = { events: Event[]; rawMessages: string[] };

export type InsertSession = {
  /** Stores one batch; resolves with how many of its keys were new. */
  insert(batch: CeilingBatch): Promise<number>;
  close(): Promise<void>;
};

/**
 * A way to store batches with dedupe; `open` runs before the clock starts.
 * With `explain`, the session's statements are planned with auto_explain
 * (ANALYZE, BUFFERS) and each plan is handed over as PostgreSQL prints it.
 */
export type InsertVariant = {
  name: string;
  note: string;
  open(url: string, index: number, explain?: (plan: string) => void): Promise<InsertSession>;
};

// auto_explain is loaded for the session only; its plans come back to the client as notices.
const AUTO_EXPLAIN = ['session_preload_libraries=auto_explain', 'auto_explain.log_min_duration=0', 'auto_explain.log_analyze=on',
  'auto_explain.log_buffers=on', 'auto_explain.log_level=notice'].map((setting) => `-c ${setting}`).join(' ');

const INTO = 'INSERT INTO events (topic, event_id, "timestamp", source, payload)';

// The worker needs per-topic counts of new rows: one row per topic comes back instead of one per event.
const countingNew = (select: string) =>
  `WITH ins AS (${INTO} ${select} ON CONFLICT (topic, event_id) DO NOTHING RETURNING topic) SELECT topic, count(*)::int AS n FROM ins GROUP BY topic`;

const total = (rows: Array<{ n: number }>) => rows.reduce((sum, row) => sum + row.n, 0);

// Concurrent batches lock keys in the same order, so they never deadlock.
const byKey = (a: Event, b: Event) =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0;
const sorted = (events: Event[]) => [...events].sort(byKey);

async function clientSession(
  url: string,
  explain: ((plan: string) => void) | undefined,
  prepare: (client: pg.Client) => Promise<unknown>,
  insert: (client: pg.Client, batch: CeilingBatch) => Promise<number>,
): Promise<InsertSession> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-ceiling', ...(explain ? { options: AUTO_EXPLAIN } : {}) });
  if (explain) client.on('notice', (notice) => explain(notice.message ?? ''));
  await client.connect();
  await prepare(client);
  return { insert: (batch) => insert(client, batch), close: () => client.end() };
}

const none = async () => undefined;

/** The whole of the product's store: decode the claimed messages, then storeMessages in a transaction. */
const productStore: InsertVariant = {
  name: 'storeMessages (product, whole batch)',
  note: 'decodeMessage + storeMessages: message ids, json_to_recordset insert, counter upsert, in one transaction',
  async open(url, index) {
    const db = createDb(url, 1, 'bench-ceiling');
    return {
      async insert(batch) {
        const messages: QueueMessage[] = batch.rawMessages.map((raw) => {
          const decoded = decodeMessage(raw);
          if (!decoded.ok) throw new Error(`bench message refused: ${decoded.reason}`);
          return decoded.message;
        });
        return (await db.transaction().execute((trx) => storeMessages(trx, messages, index, new Set()))).unique;
      },
      close: () => db.destroy(),
    };
  },
};

/** The product's insert statement alone, fed as storeMessages feeds it (first of each key, sorted, one JSON text). */
const productStatement: InsertVariant = {
  name: 'json_to_recordset (product statement)',
  note: 'one JSON parameter unpacked by PostgreSQL, RETURNING topic, event_id of every new row',
  open: (url, _index, explain) => clientSession(url, explain, none, async (client, batch) => {
    const first = new Map<string, Event>();
    for (const e of batch.events) {
      const key = `${e.topic}\u0000${e.event_id}`;
      if (!first.has(key)) first.set(key, e);
    }
    const result = await client.query(
      `${INTO} SELECT r.topic, r.event_id, r."timestamp", r.source, r.payload
       FROM json_to_recordset($1::json) AS r(topic text, event_id text, "timestamp" timestamptz, source text, payload jsonb)
       ON CONFLICT (topic, event_id) DO NOTHING RETURNING topic, event_id`,
      [JSON.stringify(sorted([...first.values()]))],
    );
    return result.rowCount ?? 0;
  }),
};

const unnest: InsertVariant = {
  name: 'unnest arrays (prepared)',
  note: 'five array parameters, named prepared statement, sorted in Node',
  open: (url, _index, explain) => clientSession(url, explain, none, async (client, batch) => {
    const events = sorted(batch.events);
    const result = await client.query<{ n: number }>({
      name: 'ceiling-unnest',
      text: countingNew('SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::jsonb[])'),
      values: [events.map((e) => e.topic), events.map((e) => e.event_id), events.map((e) => e.timestamp), events.map((e) => e.source), events.map((e) => JSON.stringify(e.payload))],
    });
    return total(result.rows);
  }),
};

const valuesText = new Map<number, string>();
function multiRowValues(rows: number): string {
  let text = valuesText.get(rows);
  if (!text) {
    const tuples = Array.from({ length: rows }, (_, i) => `($${i * 5 + 1}, $${i * 5 + 2}, $${i * 5 + 3}::timestamptz, $${i * 5 + 4}, $${i * 5 + 5}::jsonb)`);
    text = countingNew(`VALUES ${tuples.join(', ')}`);
    valuesText.set(rows, text);
  }
  return text;
}

const multiValues: InsertVariant = {
  name: 'multi-row VALUES (prepared)',
  note: 'five parameters a row, one named prepared statement per batch size, sorted in Node',
  open: (url, _index, explain) => clientSession(url, explain, none, async (client, batch) => {
    const events = sorted(batch.events);
    const result = await client.query<{ n: number }>({
      name: `ceiling-values-${events.length}`,
      text: multiRowValues(events.length),
      values: events.flatMap((e) => [e.topic, e.event_id, e.timestamp, e.source, JSON.stringify(e.payload)]),
    });
    return total(result.rows);
  }),
};

/** COPY into a session's staging table, then one INSERT ... SELECT sorted by key; one transaction a batch. */
async function copyThenInsert(client: pg.Client, copySql: string, lines: string, select: string): Promise<number> {
  await client.query('BEGIN');
  try {
    await copyFromStdin(client, copySql, lines);
    const result = await client.query<{ n: number }>(countingNew(select));
    await client.query('COMMIT');
    return total(result.rows);
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

const copyColumns: InsertVariant = {
  name: 'COPY columns to staging',
  note: 'COPY text format into a temporary table (ON COMMIT DELETE ROWS), INSERT ... SELECT ... ORDER BY key',
  open: (url, _index, explain) => clientSession(
    url,
    explain,
    (client) => client.query('CREATE TEMP TABLE staging (topic text, event_id text, "timestamp" timestamptz, source text, payload jsonb) ON COMMIT DELETE ROWS'),
    (client, batch) => {
      let lines = '';
      for (const e of batch.events) lines += `${copyText(e.topic)}\t${copyText(e.event_id)}\t${e.timestamp}\t${copyText(e.source)}\t${copyText(JSON.stringify(e.payload))}\n`;
      return copyThenInsert(client, 'COPY staging FROM STDIN', lines, 'SELECT * FROM staging ORDER BY topic, event_id');
    },
  ),
};

/**
 * The claimed messages go to PostgreSQL as the JSON text Redis returned: Node
 * parses nothing, PostgreSQL unpacks the events. Ordered by key, then arrival,
 * so the first event of a key is the one stored, as storeMessages does.
 */
const copyMessages: InsertVariant = {
  name: 'COPY raw messages as jsonb',
  note: 'message JSON from Redis copied as is into a jsonb staging column, unpacked with jsonb_array_elements',
  open: (url, _index, explain) => clientSession(
    url,
    explain,
    (client) => client.query('CREATE TEMP TABLE staging_messages (arrival int, doc jsonb) ON COMMIT DELETE ROWS'),
    (client, batch) => {
      let lines = '';
      // After the header's three fields (count, accepted at, id: none holds a '|') comes the events' JSON array.
      batch.rawMessages.forEach((raw, i) => (lines += `${i}\t${copyText(raw.slice(raw.split('|', 3).join('|').length + 1))}\n`));
      return copyThenInsert(client, 'COPY staging_messages FROM STDIN', lines, `
        SELECT e->>'topic', e->>'event_id', (e->>'timestamp')::timestamptz, e->>'source', e->'payload'
        FROM staging_messages m, jsonb_array_elements(m.doc) WITH ORDINALITY AS x(e, n)
        ORDER BY e->>'topic', e->>'event_id', m.arrival, x.n`);
    },
  ),
};

/** The raw statements, fastest-known first; the product's whole store is measured beside them. */
export const RAW_VARIANTS: readonly InsertVariant[] = [copyColumns, copyMessages, multiValues, unnest, productStatement];
export const PRODUCT_STORE = productStore;
