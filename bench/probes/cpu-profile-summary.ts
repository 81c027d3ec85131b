import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type ProfileNode = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

export type Share = { name: string; percent: number };
export type ProfileSummary = {
  process: string;
  /** Sampled milliseconds the process was not idle. */
  busyMs: number;
  /** Where the busy time went, by package (node_modules), project file, or V8 bucket (GC, program). */
  byArea: Share[];
  /** Functions by self time. */
  bySelf: Share[];
  /** Project functions by total time (themselves and what they call). */
  byTotal: Share[];
};

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `pg-protocol`, `shared/db/event.repository.ts`, `node:internal/...`, or a V8 bucket such as `(garbage collector)`. */
function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1]!;
  if (path.startsWith(ROOT)) return path.slice(ROOT.length);
  return path.startsWith('node:') ? path.split('/').slice(0, 2).join('/') : path;
}

const top = (totals: Map<string, number>, busy: number, count: number): Share[] =>
  [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, count)
    .map(([name, ms]) => ({ name, percent: Math.round((ms / busy) * 1000) / 10 }));

/**
 * Reads a .cpuprofile and says where the time went, without the idle time, so
 * that a process that waited most of the run still shows what its work cost.
 */
export function summariseProfile(processName: string, path: string, count = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));

  const label = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${areaOf(n.callFrame.url, n.callFrame.functionName)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  const areas = new Map<string, number>();
  const selves = new Map<string, number>();
  let busy = 0;
  for (const [id, ms] of selfMs) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') continue;
    busy += ms;
    const area = areaOf(node.callFrame.url, node.callFrame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    selves.set(label(node), (selves.get(label(node)) ?? 0) + ms);
  }

  // Total time of project functions: each sample counts once per function on its stack.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const totals = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at)!;
      const path = node.callFrame.url.startsWith('file://') ? fileURLToPath(node.callFrame.url) : '';
      if (!path.startsWith(ROOT) || path.includes('node_modules')) continue;
      const name = label(node);
      if (!seen.has(name)) totals.set(name, (totals.get(name) ?? 0) + ms);
      seen.add(name);
    }
  }
  return { process: processName, busyMs: Math.round(busy), byArea: top(areas, busy, count), bySelf: top(selves, busy, count), byTotal: top(totals, busy, count) };
}
