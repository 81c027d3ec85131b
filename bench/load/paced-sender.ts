import { setTimeout as tick } from 'node:timers/promises';
import type { LoadResult } from './http-load.ts';
import { latencyRecorder } from './latency.ts';
import { RawConnections, rawRequest } from './raw-http.ts';

/** How long the sender warms up, at the run's rate, on `GET /healthz` before it sends the first body. */
export const PACED_WARM_UP_MS = 1_000;

/** Sends `count` requests made by `request(i)` at `rate` a second, request i due at `started + i / rate`. */
async function paced(count: number, rate: number, request: (i: number, due: number) => Promise<void>): Promise<number> {
  const interval = 1000 / rate;
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];
  while (inFlight.length < count) {
    const due = Math.min(count, Math.floor((performance.now() - started) / interval) + 1);
    for (let i = inFlight.length; i < due; i++) inFlight.push(request(i, started + i * interval));
    await tick(1); // the timer's granularity: requests due within the same millisecond leave together
  }
  await Promise.all(inFlight);
  return started;
}

/**
 * POSTs every body once at a steady `rate` a second, whatever the answers take
 * (an open loop, as independent publishers behave). Latency is measured from
 * the moment a request was due, so a client that falls behind shows in it
 * instead of hiding it (coordinated omission). Every body is timed; before the
 * first, the sender asks `GET /healthz` at the same rate for PACED_WARM_UP_MS,
 * so that it opens its connections and compiles its own code there: cold, it
 * stalled answers by up to 100 ms, against bare Hono as much as against the
 * system, and that would have been counted as the server's latency. It sends over
 * keep-alive connections of its own (raw-http.ts), the requests written out before
 * the clock starts: undici cost it about twice the CPU a request, on cores it shares
 * with the system it times.
 */
export async function sendPaced(url: string, bodies: readonly string[], rate: number, connections: number): Promise<LoadResult> {
  const target = new URL(url);
  // Every request's bytes are written before the clock starts.
  const requests = bodies.map((body) => rawRequest('POST', target, body));
  const healthz = rawRequest('GET', new URL('/healthz', target));
  const pool = new RawConnections(target, connections);
  const latency = latencyRecorder();
  const statuses: Record<string, number> = {};
  let lost = 0;
  let lastAnswer = 0;

  async function send(request: Buffer, due: number) {
    const status = await pool.send(request);
    if (status === null) {
      lost++;
      return;
    }
    lastAnswer = performance.now();
    latency.record(lastAnswer - due);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }

  let started: number;
  try {
    await paced(Math.ceil((rate * PACED_WARM_UP_MS) / 1000), rate, async () => void (await pool.send(healthz)));
    started = await paced(requests.length, rate, (i, due) => send(requests[i]!, due));
  } finally {
    pool.close();
  }
  const seconds = (lastAnswer - started) / 1000;
  const answered = bodies.length - lost;
  return { requests: bodies.length, accepted: statuses['202'] ?? 0, statuses, lost, seconds, requestsPerSecond: answered / seconds, latency: latency.summary() };
}
