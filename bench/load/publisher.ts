import { setTimeout as pause } from 'node:timers/promises';
import { Pool } from 'undici';
import { latencyRecorder, type Latency } from './latency.ts';

export type PublishResult = {
  requests: number;
  /** 429 and 503 answers, each retried until the body got its 202. */
  refused: number;
  /** From the first request sent to the last 202 received. */
  seconds: number;
  latency: Latency;
};

/**
 * Sends pre-built bodies from `publishers` concurrent publishers over one
 * keep-alive connection each, as polite publishers do: a 429 or 503 is retried
 * after a short pause until it is accepted, anything else fails the run.
 * Every body ends up accepted exactly once.
 */
export async function publishAll(url: string, bodies: readonly string[], publishers: number): Promise<PublishResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: publishers, pipelining: 1 });
  const latency = latencyRecorder();
  let next = 0;
  let requests = 0;
  let refused = 0;

  async function publisher() {
    for (let index = next++; index < bodies.length; index = next++) {
      for (let attempt = 1; ; attempt++) {
        const sent = performance.now();
        const response = await pool.request({ path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[index] });
        const answer = await response.body.text();
        latency.record(performance.now() - sent);
        requests++;
        if (response.statusCode === 202) break;
        if (response.statusCode !== 429 && response.statusCode !== 503) {
          throw new Error(`publish refused with ${response.statusCode}: ${answer.slice(0, 300)}`);
        }
        refused++;
        // Backpressure: back off a little longer each time, as a client honouring Retry-After would.
        await pause(Math.min(1_000, 10 * attempt));
      }
    }
  }

  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: publishers }, publisher));
  } finally {
    await pool.close();
  }
  return { requests, refused, seconds: (performance.now() - started) / 1000, latency: latency.summary() };
}
