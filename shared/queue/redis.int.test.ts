import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { event } from '../../dev/harness.ts';
import { testRedis, TEST_REDIS_URL } from '../../dev/services.ts';
import { waitFor } from '../../dev/wait.ts';
import type { QueueMessage } from './message.ts';
import { EventQueue } from './queue.ts';
import { createRedis } from './redis.ts';

// A proxy in front of Redis that forwards one script call and then cuts the
// connection before the reply comes back: the script ran, the client cannot know.
const r = testRedis('redis-client');
let proxy: Server;
let proxyPort: number;
let cutNextScript = false;
const sockets = new Set<Socket>();

beforeAll(async () => {
  const upstreamUrl = new URL(TEST_REDIS_URL);
  proxy = createServer((client) => {
    const upstream = connect(Number(upstreamUrl.port || 6379), upstreamUrl.hostname);
    sockets.add(client).add(upstream);
    let cutting = false;
    client.on('data', (data) => {
      if (cutNextScript && /\r\n(eval|evalsha)\r\n/i.test(data.toString('latin1'))) {
        cutNextScript = false;
        cutting = true;
      }
      upstream.write(data);
    });
    upstream.on('data', (data) => {
      if (cutting) {
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(data);
    });
    for (const s of [client, upstream]) s.on('error', () => undefined).on('close', () => { client.destroy(); upstream.destroy(); });
  });
  proxyPort = await new Promise<number>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve((proxy.address() as { port: number }).port)));
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => proxy.close(resolve));
  await r.cleanup();
});

it('never runs a queue script twice when the connection drops before its reply', async () => {
  const client = createRedis(`redis://127.0.0.1:${proxyPort}`, 'cut-test');
  client.on('error', () => undefined);
  try {
    await waitFor(() => client.status === 'ready', { what: 'the client to connect' });
    const queue = new EventQueue(client, r.prefix);
    const message: QueueMessage = { id: 'once', events: [event() as QueueMessage['events'][number]] };
    cutNextScript = true;
    await expect(queue.enqueue(message, 1_000)).rejects.toThrow();
    await waitFor(() => client.status === 'ready', { timeoutMs: 10_000, what: 'the client to reconnect' });
    // Whatever reconnecting did, the script ran exactly once.
    const direct = new EventQueue(r.redis, r.prefix);
    expect(await direct.counters()).toEqual({ received: 1, pending: 1, deadLettered: 0 });
    expect(await r.redis.llen(direct.keys.queue)).toBe(1);
  } finally {
    client.disconnect();
  }
});
