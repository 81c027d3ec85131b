import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { testRedis, TEST_REDIS_URL } from '../../dev/services.ts';
import { queueProbe } from './queue-probe.ts';

// A client that opens a request and then trickles or stalls must be cut off at
// REQUEST_TIMEOUT_MS, leave nothing queued and no error in the logs: the real
// ingest server, as its runtime wrapper configures Node's HTTP server.

const r = testRedis('hostile-slow');
const probe = queueProbe(r.redis, r.prefix);
const REQUEST_TIMEOUT_MS = 1_000;
let ingest: FunctionProcess;
let port: number;

beforeAll(async () => {
  ingest = await startFunction('functions/ingest/server.ts', { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: r.prefix, REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
  port = Number(new URL(ingest.url).port);
});

afterAll(async () => {
  await ingest?.kill();
  await r.cleanup();
});

/** Sends `head` on a raw connection, then nothing more; resolves with what the server said and when it hung up. */
function stallAfter(head: string, deadlineMs = 15_000) {
  return new Promise<{ answer: string; ms: number }>((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let answer = '';
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server still held the connection after ${deadlineMs} ms`));
    }, deadlineMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => undefined); // a reset after the answer is the server hanging up too
    socket.on('close', () => {
      clearTimeout(deadline);
      resolve({ answer, ms: Date.now() - started });
    });
  });
}

describe('slow clients are cut off at REQUEST_TIMEOUT_MS', () => {
  it('a body that stops halfway', async () => {
    const head = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{"topic":"orders",';
    const { answer, ms } = await stallAfter(head);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(await probe()).toEqual({ queued: 0, received: 0 });
  });

  it('headers that never end', async () => {
    const { answer, ms } = await stallAfter('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: appl');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
  });

  it('leaves the service ready, the queue empty and the logs free of errors', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect(await probe()).toEqual({ queued: 0, received: 0 });
    const levels = ingest.output().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { level: number }).level);
    expect(levels.filter((level) => level >= 40)).toEqual([]);
  });
});
