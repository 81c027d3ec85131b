import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { PACED_WARM_UP_MS, sendPaced } from './paced-sender.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A server that answers 202 to every POST, holding for `holdMs` the few whose body `slow` picks. */
async function serve(slow: (body: string) => boolean, holdMs: number): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => setTimeout(() => res.writeHead(202).end('{}'), slow(body) ? holdMs : 0));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/publish`;
}

// 400 bodies at 200 a second: two seconds, the first of them the sender's warm-up.
const bodies = Array.from({ length: 400 }, (_, i) => JSON.stringify({ i }));
const index = (body: string) => (JSON.parse(body) as { i: number }).i;

it("leaves the requests of the sender's warm-up untimed, but sends and counts them", async () => {
  const url = await serve((body) => index(body) < 10, 300);
  const result = await sendPaced(url, bodies, 200, 32);
  expect(result.accepted).toBe(400);
  expect(result.latency.max).toBeLessThan(300);
});

it('times every request due after the warm-up, slow answers included', async () => {
  expect(PACED_WARM_UP_MS).toBeLessThanOrEqual(1_000);
  const url = await serve((body) => index(body) >= 300 && index(body) < 310, 300);
  const result = await sendPaced(url, bodies, 200, 32);
  expect(result.accepted).toBe(400);
  expect(result.latency.p99).toBeGreaterThanOrEqual(300);
});

it('times the second half of a run too short for the whole warm-up', async () => {
  // 40 bodies at 200 a second: 200 ms in all, so only the first 100 ms go untimed.
  const url = await serve((body) => index(body) >= 30 && index(body) < 35, 300);
  const result = await sendPaced(url, bodies.slice(0, 40), 200, 32);
  expect(result.latency.max).toBeGreaterThanOrEqual(300);
});
