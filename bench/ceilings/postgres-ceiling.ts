import pg from 'pg';
import { eventsBetween } from '../../loadtest/lib/events.js';
import { encodeMessage } from '../../shared/queue/message.ts';
import type { PhaseData } from '../data/phase-data.ts';
import { withCpuSplit } from '../probes/cpu-split.ts';
import type { CeilingBatch, Inserter } from './insert-statements.ts';

// A fixed acceptance time, so every round stores byte-identical messages.
const ACCEPTED_AT = Date.UTC(2026, 10, 25, 8);

export type InsertRun = {
  inserter: string;
  connections: number;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** CPU the PostgreSQL backends spent a row, and this (single-threaded) bench process: the cost, apart from the waits. */
  postgresCpuUsPerRow: number;
  nodeCpuUsPerRow: number;
};

/**
 * The first `rows` events of a phase as statement batches: `batch`-event
 * messages as ingest would queue them, `perStatement` events' worth a batch.
 */
export function ceilingBatches(phase: PhaseData, rows: number, perStatement: number): CeilingBatch[] {
  const perMessage = phase.eventsPerRequest;
  const messagesPerBatch = Math.max(1, Math.round(perStatement / perMessage));
  const batches: CeilingBatch[] = [];
  let message = 0;
  for (let from = 0; from < rows; from += messagesPerBatch * perMessage) {
    const batch: CeilingBatch = { events: [], rawMessages: [] };
    for (let m = from; m < Math.min(rows, from + messagesPerBatch * perMessage); m += perMessage) {
      const events = eventsBetween(phase.plan, m, Math.min(rows, m + perMessage));
      batch.events.push(...events);
      batch.rawMessages.push(encodeMessage({ id: `ceiling-${message++}`, at: ACCEPTED_AT, events }));
    }
    batches.push(batch);
  }
  return batches;
}

/** How many distinct keys the batches hold: what every inserter must end up storing. */
export function distinctKeys(batches: readonly CeilingBatch[]): number {
  const keys = new Set<string>();
  for (const b of batches) for (const e of b.events) keys.add(`${e.topic}\u0000${e.event_id}`);
  return keys.size;
}

/**
 * Stores every batch with one inserter over `connections` sessions that each
 * take the next batch, into emptied tables; times it, then checks that exactly
 * the distinct keys were stored (a fast wrong answer fails the run).
 */
export async function timeInsert(url: string, inserter: Inserter, batches: readonly CeilingBatch[], connections: number, expectedRows: number): Promise<InsertRun> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query('TRUNCATE events, processed_messages, topic_counters RESTART IDENTITY');
    const sessions = await Promise.all(Array.from({ length: connections }, (_, i) => inserter.open(url, i)));
    const backends = async () => (await admin.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'bench-ceiling'")).rows.map((r) => r.pid);
    let next = 0;
    let stored = 0;
    let seconds = 0;
    try {
      const { cpu } = await withCpuSplit([{ label: 'postgres', pids: backends }, { label: 'node', pids: async () => [process.pid] }], async () => {
        const started = performance.now();
        await Promise.all(sessions.map(async (session) => {
          for (let i = next++; i < batches.length; i = next++) {
            const fresh = await session.insert(batches[i]!); // not `stored += await`: that reads `stored` before the wait
            stored += fresh;
          }
        }));
        seconds = (performance.now() - started) / 1000;
      });
      const { rows: [count] } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
      if (stored !== expectedRows || count?.n !== expectedRows) {
        throw new Error(`${inserter.name} on ${connections} connection(s) stored ${count?.n} rows and reported ${stored} new; expected ${expectedRows}`);
      }
      const rows = batches.reduce((sum, b) => sum + b.events.length, 0);
      const perRow = (part: string) => ((cpu[part] ?? 0) / rows) * 1e6;
      return { inserter: inserter.name, connections, rows, seconds, rowsPerSecond: rows / seconds, postgresCpuUsPerRow: perRow('postgres'), nodeCpuUsPerRow: perRow('node') };
    } finally {
      // Closed after the CPU reading: a closed session's backend can no longer be read.
      await Promise.all(sessions.map((s) => s.close()));
    }
  } finally {
    await admin.end();
  }
}
