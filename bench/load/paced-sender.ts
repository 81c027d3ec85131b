import { setTimeout as tick } from 'node:timers/promises';
import { Pool } from 'undici';
import type { LoadResult } from './http-load.ts';
import { latencyRecorder } from './latency.ts';

/** How long the sender warms up (at most half of a run): its requests are sent and answered, but not timed. */
export const PACED_WARM_UP_MS = 1_000;

/**
 * POSTs every body once at a steady `rate` a second, whatever the answers take
 * (an open loop, as independent publishers behave). Latency is measured from
 * the moment a request was due, so a client that falls behind shows in it
 * instead of hiding it (coordinated omission). The requests due in the first
 * PACED_WARM_UP_MS are not timed: there the sender opens its connections and
 * compiles its own code, and its stalls (up to 100 ms seen, against bare Hono as
 * much as against the system) would be counted as the server's latency.
 */
export async function sendPaced(url: string, bodies: readonly string[], rate: number, connections: number): Promise<LoadResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections, pipelining: 1 });
  const latency = latencyRecorder();
  const statuses: Record<string, number> = {};
  let lost = 0;
  let lastAnswer = 0;

  async function send(body: string, due: number) {
    try {
      const response = await pool.request({ path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await response.body.dump();
      lastAnswer = performance.now();
      if (due - started >= warmUpMs) latency.record(lastAnswer - due);
      statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
    } catch {
      lost++;
    }
  }

  const interval = 1000 / rate;
  const warmUpMs = Math.min(PACED_WARM_UP_MS, (bodies.length * interval) / 2);
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];
  try {
    while (inFlight.length < bodies.length) {
      const due = Math.min(bodies.length, Math.floor((performance.now() - started) / interval) + 1);
      for (let i = inFlight.length; i < due; i++) inFlight.push(send(bodies[i]!, started + i * interval));
      await tick(1); // the timer's granularity: requests due within the same millisecond leave together
    }
    await Promise.all(inFlight);
  } finally {
    await pool.close();
  }
  const seconds = (lastAnswer - started) / 1000;
  const answered = bodies.length - lost;
  return { requests: bodies.length, accepted: statuses['202'] ?? 0, statuses, lost, seconds, requestsPerSecond: answered / seconds, latency: latency.summary() };
}
