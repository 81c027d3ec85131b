import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parseBenchArgs } from './bench-options.ts';
import { BARE_STATEMENT, PRODUCT_STORE } from './ceilings/insert-statements.ts';
import { CEILING_CONNECTIONS } from './ceilings/measure-ceilings.ts';
import { runBench } from './run-bench.ts';

const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

// The short form of `npm run bench`: every stage on a few thousand events, in seconds rather than minutes.
// The npm start stage's publisher is Node here (wrk is a Debian package a test must not need).
it('measures every stage, prints the table, writes both result files, and finds the counters exact', async () => {
  const options = parseBenchArgs([
    '--events', '3000', '--ceiling-rows', '2000', '--single-requests', '600', '--batch-requests', '20',
    '--curve-events', '2000', '--pollers', '1,2', '--connections', '8', '--publishers', '4', '--client-events', '3000', '--start', '--publisher', 'node', '--out', out,
    '--shards', '1,3', '--shard-requests', '200', '--shard-batches', '10', '--idle-seconds', '1',
  ]);
  const progress: string[] = [];
  const report = await runBench(options, (line) => progress.push(line));

  const [round] = report.rounds;
  expect(report.rounds).toHaveLength(1);
  expect(round!.system.counters).toMatchObject({ exact: true, problems: [] });
  expect(round!.client.counters).toMatchObject({ exact: true, problems: [] });
  expect(round!.client.counters.stats).toMatchObject({ received: 3000, pending: 0 });
  expect(round!.client.acceptedEventsPerSecond).toBeGreaterThan(0);
  expect(report.exact).toBe(true);
  // warm-up and one-event phases, at least 100 paced, the batch phase, end to end, and two curve points
  expect(round!.system.counters.stats.received).toBeGreaterThanOrEqual(600 + 600 + 100 + 2000 + 3000 + 2 * 2000);
  expect(round!.system.counters.rows).toBe(round!.system.counters.stats.unique_processed);

  // The ceiling is one bare statement, beside the product's whole store, each on 1 and 2 connections.
  expect(round!.ceilings.inserts.map((run) => [run.inserter, run.connections])).toEqual(CEILING_CONNECTIONS.map((c) => [BARE_STATEMENT.name, c]));
  expect(round!.ceilings.productStore.map((run) => [run.inserter, run.connections])).toEqual(CEILING_CONNECTIONS.map((c) => [PRODUCT_STORE.name, c]));
  expect(round!.system.pollers.map((p) => p.pollers)).toEqual([1, 2]);
  expect(round!.system.processes.map((p) => p.name).sort()).toEqual(['ingest', 'process', 'process-1-pollers', 'process-2-pollers', 'stats']);
  for (const p of round!.system.processes) expect(p.peakRssMb).toBeGreaterThan(10);
  expect(round!.system.ingest.halfRate.latency.p99).toBeGreaterThan(0);
  for (const row of report.rows) {
    for (const value of row.medians) expect(Number.isFinite(value), row.measure).toBe(true);
  }
  expect(progress.some((line) => line.includes('counters exact'))).toBe(true);

  expect(report.table).toMatch(/^\| stage \| measure \| median \|/);
  expect(report.table).toContain('| ratio | split deployment end to end / PostgreSQL ceiling |');

  // Sharding: the same events (the round's 600 warm-up ones, 200 one-event requests, 10 of 100) through each setting, stored exactly.
  expect(round!.shards.map((s) => s.shards)).toEqual([1, 3]);
  for (const setting of round!.shards) {
    expect(Object.keys(setting).sort()).toEqual(['batch', 'commands', 'counters', 'drain', 'idle', 'shards', 'single']);
    expect(setting.counters).toMatchObject({ exact: true, problems: [] });
    expect(setting.counters.stats).toMatchObject({ received: 600 + 200 + 1000, pending: 0 });
    expect(setting.drain.events).toBe(1800);
    expect(setting.commands.storedEvents).toBe(setting.counters.stats.unique_processed);
    // Each request was at least one enqueue script; each claim at least one script and its ack another.
    expect(setting.commands.ingest).toBeGreaterThanOrEqual(810);
    expect(setting.commands.drain).toBeGreaterThan(0);
    expect(setting.commands.perStoredEvent).toBeCloseTo((setting.commands.ingest + setting.commands.drain) / setting.commands.storedEvents, 9);
    expect(setting.single.latency.p99).toBeGreaterThan(0);
    expect(setting.batch.eventsPerSecond).toBeGreaterThan(0);
    expect(setting.idle.seconds).toBeGreaterThanOrEqual(1);
    expect(setting.idle.processCpuPercent).toBeGreaterThanOrEqual(0);
  }
  // An empty poll claims from every shard in turn: three shards, more commands a second than one.
  const [oneShard, threeShards] = round!.shards;
  expect(threeShards!.idle.redisCommandsPerSecond).toBeGreaterThan(oneShard!.idle.redisCommandsPerSecond);
  expect(oneShard!.idle.redisCommandsPerSecond).toBeGreaterThan(0);
  for (const measure of ['ingest latency, 1 event a request, p99', 'backlog drain, 2 pollers', 'idle process function CPU',
    'idle Redis commands (the scripts\' own counted)', 'Redis commands a stored event, ingest and drain']) {
    expect(report.table).toContain(`| ratio | QUEUE_SHARDS=3 against 1: ${measure} |`);
  }

  // npm start: one process, its own database; warm-up, one-event, paced, a tenth, and the end-to-end events, all stored exactly.
  const start = round!.start!;
  expect(start.counters).toMatchObject({ exact: true, problems: [] });
  expect(start.counters.stats.received).toBeGreaterThanOrEqual(600 + 600 + 100 + 300 + 3000);
  expect(start.peakRssMb).toBeGreaterThan(10);
  expect(start.endToEnd.cpu['postgres backends']).toBeGreaterThan(0);
  for (const measure of ['npm start end to end / PostgreSQL ceiling', 'npm start 1-event / bare Hono 1-event, same publisher',
    'PostgreSQL CPU an event, npm start end to end / bare statement\'s a row', 'npm start flatness: events/s at 3000 / at a tenth of them']) {
    expect(report.table).toContain(`| ratio | ${measure} |`);
  }
  expect(report.table).toMatch(/\| npm start peak RSS \(one process: HTTP and storage threads\) \| \d+ \| MB \|/);
  const markdown = readFileSync(report.files.markdown, 'utf8');
  expect(report.files.markdown).toBe(join(out, 'latest.md'));
  expect(markdown).toContain(report.table);
  expect(markdown).toContain(`| ${PRODUCT_STORE.name} |`); // the statement table, beside the ceiling's
  const json = JSON.parse(readFileSync(report.files.json, 'utf8')) as { rounds: Array<{ shards: unknown[] }>; rows: unknown[] };
  expect(json.rounds).toHaveLength(1);
  expect(json.rounds[0]!.shards).toEqual(JSON.parse(JSON.stringify(round!.shards)));
  expect(json.rows).toHaveLength(report.rows.length);
}, 300_000);
