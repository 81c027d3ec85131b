import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestApp } from '../../functions/ingest/app.ts';
import { loadConfig } from '../../shared/config/config.ts';
import { createMetrics } from '../../shared/metrics/metrics.ts';
import { EventQueue } from '../../shared/queue/queue.ts';
import { readinessOf } from '../../shared/runtime/readiness.ts';
import { testRedis } from '../support/services.ts';
import { queueProbe } from './queue-probe.ts';

// A client that opens a request and then trickles or stalls must be cut off at
// REQUEST_TIMEOUT_MS, leave nothing queued and no error in the logs. The ingest
// app is served here with the Node server options the runtime is meant to use
// (see the report for shared/runtime/run-function.ts), at a 1 s timeout.

const r = testRedis('hostile-slow');
const probe = queueProbe(r.redis, r.prefix);
const config = loadConfig({ QUEUE_PREFIX: r.prefix, REQUEST_TIMEOUT_MS: '1000' }, { secretsDir: null });
const logLines: string[] = [];
let server: ServerType;
let port: number;

beforeAll(async () => {
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  const app = createIngestApp({
    config, logger, metrics: createMetrics(), queue: new EventQueue(r.redis, r.prefix), readiness: readinessOf({ redis: r.redis }),
  });
  port = await new Promise<number>((resolve) => {
    server = serve(
      {
        fetch: app.fetch, port: 0, hostname: '127.0.0.1',
        // Node checks for expired requests every connectionsCheckingInterval (30 s by default).
        serverOptions: { requestTimeout: config.requestTimeoutMs, connectionsCheckingInterval: Math.min(1_000, config.requestTimeoutMs / 4) },
      },
      (info: AddressInfo) => resolve(info.port),
    );
  });
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
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
    expect(ms).toBeGreaterThanOrEqual(config.requestTimeoutMs - 50);
    expect(await probe()).toEqual({ queued: 0, received: 0 });
  });

  it('headers that never end', async () => {
    const { answer, ms } = await stallAfter('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: appl');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeGreaterThanOrEqual(config.requestTimeoutMs - 50);
  });

  it('leaves the service ready, the queue empty and the logs free of errors', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect(await probe()).toEqual({ queued: 0, received: 0 });
    const levels = logLines.map((line) => (JSON.parse(line) as { level: number }).level);
    expect(levels.filter((level) => level >= 40)).toEqual([]);
  });
});
