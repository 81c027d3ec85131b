import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { PACED_WARM_UP_MS, sendPaced } from './paced-sender.ts';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A server that answers every request, holding for `holdMs` the POSTs whose body `slow` picks; `seen` lists what came, in order. */
async function serve(slow: (body: string) => boolean, holdMs: number) {
  const seen: string[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      if (req.method !== 'POST') return void res.writeHead(200).end('ok');
      setTimeout(() => res.writeHead(202).end('{}'), slow(body) ? holdMs : 0);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/publish`, seen };
}

// 200 bodies at 200 a second.
const bodies = Array.from({ length: 200 }, (_, i) => JSON.stringify({ i }));
const index = (body: string) => (JSON.parse(body) as { i: number }).i;

it('warms up on GET /healthz at the same rate before the first body, and counts none of it', async () => {
  const { url, seen } = await serve(() => false, 0);
  const result = await sendPaced(url, bodies, 200, 32);
  const warmUp = (200 * PACED_WARM_UP_MS) / 1000;
  expect(seen.slice(0, warmUp)).toEqual(Array(warmUp).fill('GET /healthz'));
  expect(seen.slice(warmUp)).toEqual(Array(200).fill('POST /publish'));
  expect(result).toMatchObject({ requests: 200, accepted: 200, lost: 0 });
});

it('times every body, the first ones included', async () => {
  const { url } = await serve((body) => index(body) < 5, 300);
  const result = await sendPaced(url, bodies, 200, 32);
  expect(result.accepted).toBe(200);
  expect(result.latency.max).toBeGreaterThanOrEqual(300);
});
