import { setTimeout as sleep } from 'node:timers/promises';
import type { StatsBody } from './stats-check.js';

/** GET /stats, or an error that says where and what came back. */
export async function readStats(url: string, readKey?: string): Promise<StatsBody> {
  const response = await fetch(url, { headers: readKey ? { authorization: `Bearer ${readKey}` } : {} });
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  return (await response.json()) as StatsBody;
}

/** /stats once nothing is pending, or as it stands after `waitSeconds`. */
export async function readStatsWhenQuiet(url: string, readKey: string | undefined, waitSeconds: number): Promise<StatsBody> {
  const deadline = Date.now() + waitSeconds * 1000;
  let stats = await readStats(url, readKey);
  while (stats.pending > 0 && Date.now() < deadline) {
    await sleep(200);
    stats = await readStats(url, readKey);
  }
  return stats;
}
