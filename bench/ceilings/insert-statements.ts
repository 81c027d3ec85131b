import pg from 'pg';
import { createDb } from '../../shared/db/database.ts';
import { byKey } from '../../shared/db/event.repository.ts';
import { textArrayLiteral } from '../../shared/db/text-array.ts';
import { storeMessages } from '../../functions/process/store-messages.ts';
import type { Event } from '../../shared/event/event.schema.ts';
import { decodeMessage, type QueueMessage } from '../../shared/queue/message.ts';

/** One statement's worth of input: the events, and the same events as the queue messages a worker claims. */
export type CeilingBatch = { events: Event[]; rawMessages: string[] };

export type InsertSession = {
  /** Stores one batch; resolves with how many of its keys were new. */
  insert(batch: CeilingBatch): Promise<number>;
  close(): Promise<void>;
};

/** A way to store batches with dedupe; `open` runs before the clock starts. */
export type Inserter = {
  name: string;
  note: string;
  open(url: string, index: number): Promise<InsertSession>;
};

/**
 * The PostgreSQL ceiling: the fastest way to `INSERT ... ON CONFLICT DO NOTHING` the
 * bench found (docs/design/insert-statement.md tells what it was compared with).
 * Column arrays (written as array literals, as the product's store writes them; the payloads as one JSON
 * array) to a named prepared statement, sorted in Node; one row per
 * topic comes back, the per-topic count of new rows a worker needs.
 */
export const BARE_STATEMENT: Inserter = {
  name: 'unnest arrays (prepared)',
  note: 'four column arrays and the payloads as one JSON array, zipped by ROWS FROM, named prepared statement, sorted in Node',
  async open(url) {
    const client = new pg.Client({ connectionString: url, application_name: 'bench-ceiling' });
    await client.connect();
    return {
      async insert(batch) {
        const events = [...batch.events].sort(byKey); // concurrent batches lock keys in one order: no deadlock
        const result = await client.query<{ n: number }>({
          name: 'ceiling-unnest',
          text: `WITH ins AS (INSERT INTO events (topic, event_id, "timestamp", source, payload)
            SELECT * FROM ROWS FROM (unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[]), jsonb_array_elements($5::jsonb))
            ON CONFLICT (topic, event_id) DO NOTHING RETURNING topic) SELECT topic, count(*)::int AS n FROM ins GROUP BY topic`,
          values: [textArrayLiteral(events.map((e) => e.topic)), textArrayLiteral(events.map((e) => e.event_id)),
            textArrayLiteral(events.map((e) => e.timestamp)), textArrayLiteral(events.map((e) => e.source)),
            JSON.stringify(events.map((e) => e.payload))],
        });
        return result.rows.reduce((sum, row) => sum + row.n, 0);
      },
      close: () => client.end(),
    };
  },
};

/** The whole of the product's store: decode the claimed messages, then storeMessages (one statement, its own transaction). */
export const PRODUCT_STORE: Inserter = {
  name: 'storeMessages (product, whole batch)',
  note: 'decodeMessage + storeMessages: message ids, insert, counter upsert, in one statement',
  async open(url, index) {
    const db = createDb(url, 1, 'bench-ceiling');
    return {
      async insert(batch) {
        const messages: QueueMessage[] = batch.rawMessages.map((raw) => {
          const decoded = decodeMessage(raw);
          if (!decoded.ok) throw new Error(`bench message refused: ${decoded.reason}`);
          return decoded.message;
        });
        return (await storeMessages(db, messages, index, new Set())).unique;
      },
      close: () => db.destroy(),
    };
  },
};
