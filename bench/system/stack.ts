import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { cpuSeconds, peakRssMb } from '../probes/proc-stats.ts';

const PRELOAD = fileURLToPath(new URL('../probes/cpu-profile-preload.ts', import.meta.url));

/** A process of the system under test, as a container would run it. */
export type Member = { name: string; url: string; pid: number; process: FunctionProcess; profile: string | null };

export type MemberReport = { name: string; peakRssMb: number; cpuSeconds: number; exitCode: number | null; profile: string | null };

/**
 * Starts `entry` as its own process (test/support's startFunction: `node
 * --import tsx`, env passed, waits for /healthz). With `profileDir`, the
 * process is CPU-profiled from its first line and its profile lands in that
 * directory when it stops.
 */
export async function startMember(name: string, entry: string, env: Record<string, string>, profileDir: string | null): Promise<Member> {
  const profile = profileDir ? join(profileDir, `${name}.cpuprofile`) : null;
  // tsx is imported first so that the preload, which is TypeScript too, can load.
  const profiling: Record<string, string> = profile
    ? { NODE_OPTIONS: `${env.NODE_OPTIONS ?? process.env.NODE_OPTIONS ?? ''} --import tsx --import ${PRELOAD}`.trim(), BENCH_CPU_PROFILE: profile }
    : {};
  const started = await startFunction(entry, { ...env, ...profiling });
  const pid = started.child.pid;
  if (pid === undefined) throw new Error(`${name} has no pid`);
  return { name, url: started.url, pid, process: started, profile };
}

/** The node flags of package.json's `start` script, so that the stage runs what `npm start` runs. */
export function npmStartNodeFlags(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  return pkg.scripts.start.split(/\s+/).filter((arg) => arg.startsWith('--')).join(' ');
}

/** The process's peak RSS and CPU time so far. */
export const usageOf = (member: Member) => ({ peakRssMb: peakRssMb(member.pid) ?? Number.NaN, cpuSeconds: cpuSeconds(member.pid) ?? Number.NaN });

/** Reads the process's peak RSS and CPU time, then stops it with SIGTERM, as a platform would. */
export async function stopMember(member: Member): Promise<MemberReport> {
  const usage = usageOf(member);
  const exitCode = await member.process.stop();
  return { name: member.name, ...usage, exitCode, profile: member.profile };
}
