import { Kysely, PostgresDialect, type ColumnType, type Generated } from 'kysely';
import pg from 'pg';

/** A stored unique event. `seq` orders events by storage and is the keyset cursor. */
export interface EventTable {
  seq: Generated<string>;
  topic: string;
  event_id: string;
  timestamp: ColumnType<Date, string, never>;
  source: string;
  payload: ColumnType<Record<string, unknown>, string, never>;
  stored_at: Generated<Date>;
}

/** Ids of queue messages whose events are committed: a redelivered message is recognised here. */
export interface ProcessedMessageTable {
  message_id: string;
  processed_at: Generated<Date>;
  /** Recorded for a dead-lettered message rather than for committed events. */
  parked: Generated<boolean>;
}

/**
 * Counters per topic, spread over shards so that concurrent workers update
 * different rows; a topic's count is the sum over its shards.
 */
export interface TopicCounterTable {
  topic: string;
  shard: number;
  unique_count: ColumnType<string, number, never>;
  duplicate_count: ColumnType<string, number, never>;
}

/**
 * The counters of all topics per shard, kept by triggers on `topic_counters`
 * (migration 2026-11-30T02-10): the totals cost a sum over shards, not topics.
 */
export interface CounterTotalTable {
  shard: number;
  unique_count: ColumnType<string, never, never>;
  duplicate_count: ColumnType<string, never, never>;
}

export interface Database {
  events: EventTable;
  processed_messages: ProcessedMessageTable;
  topic_counters: TopicCounterTable;
  counter_totals: CounterTotalTable;
}

export type Db = Kysely<Database>;

/**
 * How long one statement may run: a dead PostgreSQL must not hang a batch forever;
 * a slow statement is retried. It never cuts a COMMIT short: PostgreSQL stops the
 * statement timer before it commits (deferred triggers, the wait for a synchronous
 * standby), which store-messages.int.test.ts pins.
 */
const STATEMENT_TIMEOUT_MS = 30_000;

/**
 * Names the statement of a text that starts with this comment: `/* prepared: <name> *\/`.
 */
const PREPARED = /^\/\* prepared: ([\w-]+) \*\//;

// The server no longer has the prepared statement (26000: DEALLOCATE or DISCARD ALL by a pooler), or
// its result type changed under it (0A000): pg would keep sending it by name and failing.
const STALE_PREPARED = new Set(['26000', '0A000']);

/**
 * A pg client that sends statements marked with PREPARED as named prepared statements, so
 * that each connection parses and plans them once rather than at every execution (Kysely
 * sends every statement unnamed). Only for statements whose text never varies: pg refuses a
 * name given again with another text. A statement the server lost is prepared again under a
 * new name, once. Behind PgBouncer in transaction mode this needs its `max_prepared_statements`
 * (1.21 and later).
 */
class PreparingClient extends pg.Client {
  /** How many times each name was prepared again on this connection. */
  readonly #renamed = new Map<string, number>();

  override query(...args: any[]): any { // any: one override for all of pg's overloads
    const [text, values] = args;
    const name = args.length === 2 && typeof text === 'string' ? PREPARED.exec(text)?.[1] : undefined;
    if (name === undefined) return super.query(...(args as Parameters<pg.Client['query']>));
    const named = () => {
      const times = this.#renamed.get(name) ?? 0;
      return super.query({ name: times === 0 ? name : `${name}-${times}`, text, values });
    };
    return named().catch((error: { code?: string }) => {
      if (!STALE_PREPARED.has(error.code ?? '')) throw error;
      this.#renamed.set(name, (this.#renamed.get(name) ?? 0) + 1);
      return named(); // nothing ran: the statement failed before it did anything
    });
  }
}

/**
 * A Kysely instance over a pg pool.
 *
 * @example const db = createDb(config.databaseUrl, config.dbPoolSize)
 */
export function createDb(connectionString: string, poolSize: number, applicationName = 'aggregator', statementTimeoutMs = STATEMENT_TIMEOUT_MS): Db {
  const pool = new pg.Pool({
    Client: PreparingClient,
    connectionString,
    max: poolSize,
    application_name: applicationName,
    connectionTimeoutMillis: 5_000,
    statement_timeout: statementTimeoutMs,
  });
  // A client that loses its connection emits 'error': the pool listens while the client is idle, but a
  // client checked out inside a transaction has no listener, and an unheard 'error' crashes the process.
  // The failed query rejects anyway, which is where the outage is handled.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

