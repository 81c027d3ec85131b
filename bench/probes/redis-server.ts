import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

const LUA = new URL('../../shared/queue/lua/', import.meta.url);
// EVALSHA names a script by its SHA1: the product's scripts by file name read better in a report.
const SCRIPT_NAMES = new Map(readdirSync(LUA).filter((f) => f.endsWith('.lua'))
  .map((f) => [createHash('sha1').update(readFileSync(new URL(f, LUA))).digest('hex'), f]));

export type CommandStat = { command: string; calls: number; usecPerCall: number };
export type SlowEntry = { at: string; micros: number; command: string };

const parseInfo = (text: string) => new Map(text.split('\r\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));

/** The Redis server's process id, for its CPU time. */
export async function redisServerPid(redis: Redis): Promise<number> {
  return Number(parseInfo(await redis.info('server')).get('process_id'));
}

/** Calls and time per command so far (INFO commandstats). The server is shared: other clients count too. */
export async function commandStats(redis: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const [key, value] of parseInfo(await redis.info('commandstats'))) {
    const fields = new Map(value.split(',').map((kv) => kv.split('=') as [string, string]));
    stats.set(key.replace(/^cmdstat_/, ''), { calls: Number(fields.get('calls')), usec: Number(fields.get('usec')) });
  }
  return stats;
}

/** The commands that took Redis time between two readings, busiest first. */
export function commandsBetween(before: Map<string, { calls: number; usec: number }>, after: Map<string, { calls: number; usec: number }>, count = 8): CommandStat[] {
  return [...after.entries()]
    .map(([command, a]) => ({ command, calls: a.calls - (before.get(command)?.calls ?? 0), usec: a.usec - (before.get(command)?.usec ?? 0) }))
    .filter((c) => c.calls > 0)
    .sort((x, y) => y.usec - x.usec)
    .slice(0, count)
    .map(({ command, calls, usec }) => ({ command, calls, usecPerCall: Math.round((usec / calls) * 10) / 10 }));
}

/**
 * SLOWLOG entries logged since `sinceMs`, the product's scripts named by file
 * (the server's threshold, slowlog-log-slower-than, and its length are left as they are).
 */
export async function slowlogSince(redis: Redis, sinceMs: number): Promise<SlowEntry[]> {
  const entries = (await redis.slowlog('GET', 128)) as Array<[number, number, number, string[]]>;
  return entries
    .filter(([, at]) => at * 1000 >= sinceMs)
    .map(([, at, micros, args]) => ({
      at: new Date(at * 1000).toISOString(),
      micros,
      command: args.slice(0, 2).map((arg) => SCRIPT_NAMES.get(arg) ?? arg).join(' ').slice(0, 80),
    }));
}

/**
 * Every command Redis ran between two readings, the commands that scripts ran
 * counted too; INFO, the reading itself, is left out.
 */
export function callsBetween(before: Map<string, { calls: number; usec: number }>, after: Map<string, { calls: number; usec: number }>): number {
  let calls = 0;
  for (const [command, { calls: n }] of after) if (command !== 'info') calls += n - (before.get(command)?.calls ?? 0);
  return calls;
}
