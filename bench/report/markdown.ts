import type { BenchOptions } from '../bench-options.ts';
import type { RoundResult } from '../bench-round.ts';
import { BARE_STATEMENT, PRODUCT_STORE } from '../ceilings/insert-statements.ts';
import { CEILING_CONNECTIONS } from '../ceilings/measure-ceilings.ts';
import type { InsertRun } from '../ceilings/postgres-ceiling.ts';
import type { Machine } from '../probes/machine.ts';
import type { SlowEntry } from '../probes/redis-server.ts';
import type { EndToEnd } from '../system/end-to-end.ts';
import { median } from './median.ts';
import type { SummaryRow } from './summary-rows.ts';

const number = (value: number, unit: string) => {
  if (!Number.isFinite(value)) return 'n/a';
  const digits = unit === 'ms' || unit === 'x' ? (value < 10 ? 2 : 1) : unit === '%' ? 0 : value < 100 ? 1 : 0;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
};
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The results table alone: what `npm run bench` prints and the README shows. */
export function renderTable(rows: readonly SummaryRow[], repeats: number): string {
  const lines = [
    `| stage | measure | median${repeats > 1 ? ` of ${repeats}` : ''} | unit | ${repeats > 1 ? 'range | ' : ''}target | note |`,
    `| --- | --- | ---: | --- | ${repeats > 1 ? '---: | ' : ''}--- | --- |`,
  ];
  for (const row of rows) {
    const value = row.medians.map((m) => number(m, row.unit)).join(' / ');
    const range = repeats > 1 ? `${number(row.range[0], row.unit)} – ${number(row.range[1], row.unit)} | ` : '';
    const target = row.met === null ? '' : `${row.target}: ${row.met ? '**met**' : '**missed**'}`;
    lines.push(`| ${row.stage} | ${cell(row.measure)} | ${value} | ${row.unit} | ${range}${target} | ${cell(row.note)} |`);
  }
  return lines.join('\n');
}

function statementTable(rounds: readonly RoundResult[]): string {
  const runsOf = (r: RoundResult) => [...r.ceilings.inserts, ...r.ceilings.productStore];
  const medianOf = (name: string, connections: number, value: (run: InsertRun) => number) => median(rounds.map((r) => {
    const run = runsOf(r).find((x) => x.inserter === name && x.connections === connections);
    return run ? value(run) : Number.NaN;
  }));
  const rate = (name: string) => CEILING_CONNECTIONS.map((c) => number(medianOf(name, c, (run) => run.rowsPerSecond), 'rows/s'));
  const cpu = (name: string) => CEILING_CONNECTIONS.map((c) =>
    `${medianOf(name, c, (run) => run.postgresCpuUsPerRow).toFixed(1)} / ${medianOf(name, c, (run) => run.nodeCpuUsPerRow).toFixed(1)}`);
  const columns = CEILING_CONNECTIONS.map((c) => `${c} connection${c > 1 ? 's' : ''}`);
  const header = [`statement (${rounds[0]!.ceilings.inserts[0]?.rows ?? 0} rows, sorted by key)`,
    ...columns.map((c) => `rows/s, ${c}`), ...columns.map((c) => `CPU µs a row, PostgreSQL / Node, ${c}`), 'how'];
  return [
    `| ${header.join(' | ')} |`,
    `| --- | ${[...columns, ...columns].map(() => '---:').join(' | ')} | --- |`,
    ...[BARE_STATEMENT, PRODUCT_STORE].map(({ name, note }) => `| ${[name, ...rate(name), ...cpu(name), cell(note)].join(' | ')} |`),
  ].join('\n');
}

function cpuTable(rounds: readonly RoundResult[], cores: number, run: (r: RoundResult) => EndToEnd): string {
  const parts = Object.keys(run(rounds[0]!).cpu);
  const seconds = median(rounds.map((r) => run(r).seconds));
  const events = run(rounds[0]!).events;
  return [
    `The end-to-end run took ${seconds.toFixed(2)} s: ${(seconds * cores).toFixed(1)} CPU seconds on ${cores} cores, ` +
      'shared with whatever else the machine ran (see the load average).',
    '',
    '| part | CPU seconds | share of one core | CPU µs an event |',
    '| --- | ---: | ---: | ---: |',
    ...parts.map((part) => {
      const cpu = median(rounds.map((r) => run(r).cpu[part] ?? Number.NaN));
      return `| ${part} | ${cpu.toFixed(2)} | ${Math.round((cpu / seconds) * 100)}% | ${((cpu / events) * 1e6).toFixed(1)} |`;
    }),
  ].join('\n');
}

function slowlogSummary(entries: readonly SlowEntry[]): string {
  if (entries.length === 0) return 'SLOWLOG: nothing over the server\'s threshold during the run.';
  const byCommand = new Map<string, number[]>();
  for (const e of entries) byCommand.set(e.command, [...(byCommand.get(e.command) ?? []), e.micros / 1000]);
  return [
    `SLOWLOG during the run (the server keeps its latest entries only): ${entries.length} entries.`,
    '',
    '| command | entries | median ms | slowest ms |',
    '| --- | ---: | ---: | ---: |',
    ...[...byCommand].sort((a, b) => b[1].length - a[1].length)
      .map(([command, ms]) => `| \`${cell(command)}\` | ${ms.length} | ${median(ms).toFixed(1)} | ${Math.max(...ms).toFixed(1)} |`),
  ].join('\n');
}

/** The whole results page: setting, table, and the evidence behind it from the last round. */
export function renderMarkdown(args: { stamp: string; options: BenchOptions; machine: Machine; rounds: readonly RoundResult[]; rows: readonly SummaryRow[] }): string {
  const { options, machine, rounds, rows } = args;
  const last = rounds.at(-1)!;
  const pgSettings = Object.entries(machine.postgres).map(([k, v]) => `${k} ${v}`).join(', ');
  const sections = [
    `# Benchmark, ${args.stamp}`,
    '',
    `Node ${machine.node} on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB; PostgreSQL (${pgSettings}); ` +
      `Redis ${machine.redis.version} (appendonly ${machine.redis.appendonly}).`,
    `Load average (1, 5, 15 min) before and after each round: ${rounds.map((r) => `round ${r.round}: ${r.load.before.map((l) => l.toFixed(2)).join(', ')} → ${r.load.after.map((l) => l.toFixed(2)).join(', ')}`).join('; ')}.`,
    `Functions run ${options.compiled ? 'compiled by infra/build.sh, as the image runs them' : 'from their TypeScript sources through tsx, as npm start and the tests run them'}.`,
    options.cpuProf ? '**Profiled run**: every function ran under the CPU profiler, which slows it; compare these numbers only with other profiled runs.' : '',
    '',
    `Options: \`${JSON.stringify(options)}\``,
    '',
    renderTable(rows, rounds.length),
    '',
    '## PostgreSQL: the bare statement and the product\'s store on the same data (median)',
    '',
    statementTable(rounds),
    '',
    '## CPU during the end-to-end run (median)',
    '',
    cpuTable(rounds, machine.cores, (r) => r.system.endToEnd),
    '',
    ...(last.start ? [
      `## CPU during the npm start end-to-end run (median; publisher ${last.start.publisher}, not counted in a part)`,
      '',
      cpuTable(rounds, machine.cores, (r) => r.start!.endToEnd),
      '',
    ] : []),
    '## Processes (last round)',
    '',
    '| process | peak RSS MB | CPU seconds over its life | exit code |',
    '| --- | ---: | ---: | ---: |',
    ...last.system.processes.map((p) => `| ${p.name} | ${p.peakRssMb.toFixed(0)} | ${p.cpuSeconds.toFixed(1)} | ${p.exitCode} |`),
    '',
    '## Redis during the system runs (last round; the server is shared, other clients count too)',
    '',
    '| command | calls | µs a call |',
    '| --- | ---: | ---: |',
    ...last.system.redisCommands.map((c) => `| ${c.command} | ${c.calls} | ${c.usecPerCall} |`),
    '',
    slowlogSummary(last.system.slowlog),
    '',
    ...(last.profiles.length === 0 ? [] : [
      '## CPU profiles (last round; busy time only)',
      '',
      ...last.profiles.map((p) => [
        `### ${p.process}: ${(p.busyMs / 1000).toFixed(1)} s busy`,
        '',
        `By area: ${p.byArea.map((s) => `${s.name} ${s.percent}%`).join(', ')}`,
        '',
        `By function, self: ${p.bySelf.map((s) => `\`${s.name}\` ${s.percent}%`).join(', ')}`,
        '',
        `Project functions, total: ${p.byTotal.map((s) => `\`${s.name}\` ${s.percent}%`).join(', ')}`,
        '',
      ].join('\n')),
    ]),
  ];
  return `${sections.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}
