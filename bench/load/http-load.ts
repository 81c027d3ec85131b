import autocannon from 'autocannon';
import { latencyRecorder, type Latency } from './latency.ts';

export type LoadResult = {
  requests: number;
  /** Responses with status 202, the only answer that means "accepted". */
  accepted: number;
  statuses: Record<string, number>;
  /** Requests that got no answer (connection error, timeout): each may or may not have been taken. */
  lost: number;
  seconds: number;
  requestsPerSecond: number;
  latency: Latency;
};

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * POSTs every body exactly once with autocannon. Each connection loops over its
 * own slice of the bodies and stops after that many requests (autocannon gives
 * connection i `amount / connections` requests, rounded the same way), so no
 * body is sent twice and the accepted events are known exactly.
 *
 * @example const r = await postEach(`${ingest.url}/publish`, bodies, { connections: 32 })
 */
export async function postEach(url: string, bodies: readonly string[], options: { connections: number }): Promise<LoadResult> {
  const path = new URL(url).pathname;
  // autocannon refuses more connections than requests.
  const connections = Math.max(1, Math.min(options.connections, bodies.length));
  const share = (i: number) => Math.floor(bodies.length / connections) + (i < bodies.length % connections ? 1 : 0);
  let nextClient = 0;
  let nextBody = 0;
  const latency = latencyRecorder();
  let lastResponse = 0;

  const started = performance.now();
  const instance = autocannon({
    url,
    connections,
    amount: bodies.length,
    sampleInt: 100,
    timeout: 30,
    setupClient: (client) => {
      const slice = bodies.slice(nextBody, nextBody + share(nextClient++));
      nextBody += slice.length;
      client.setRequests(slice.map((body) => ({ method: 'POST', path, headers: JSON_HEADERS, body })));
    },
  });
  instance.on('response', (_client, _status, _bytes, responseTimeMs) => {
    latency.record(responseTimeMs);
    lastResponse = performance.now();
  });
  const result = await instance;
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, Number(count)]));
  const answered = Object.values(statuses).reduce((sum, n) => sum + n, 0);
  const seconds = ((lastResponse || performance.now()) - started) / 1000;
  return {
    requests: bodies.length,
    accepted: statuses['202'] ?? 0,
    statuses,
    lost: bodies.length - answered,
    seconds,
    requestsPerSecond: answered / seconds,
    latency: latency.summary(),
  };
}
