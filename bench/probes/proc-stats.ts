import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// /proc counts CPU time in clock ticks; 100 a second on every Linux we run, but ask.
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const read = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // the process is gone
  }
};

/** User plus system CPU seconds a process has used so far; null once it is gone. */
export function cpuSeconds(pid: number): number | null {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // The command name may hold spaces and parentheses: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime (fields 14 and 15 of stat)
}

/** The most resident memory the process ever had (VmHWM), in MB; null once it is gone. */
export function peakRssMb(pid: number): number | null {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(read(`/proc/${pid}/status`) ?? '');
  return match ? Number(match[1]) / 1024 : null;
}

/** CPU seconds the whole machine has been busy (all cores; idle and I/O wait left out). */
export function machineBusySeconds(): number {
  const [, ...ticks] = (read('/proc/stat') ?? '').split('\n')[0]!.trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks;
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}
