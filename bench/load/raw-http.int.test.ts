import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { RawConnections, rawRequest } from './raw-http.ts';

let server: Server | undefined;
let pool: RawConnections | undefined;
afterEach(async () => {
  pool?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

/**
 * A server that answers a POST with its body's `status` (with `Connection: close` when the body says
 * `close`), drops the connection instead when it says `drop`, and never answers when it says `hang`.
 */
async function serve() {
  const sockets = new Set<Socket>();
  server = createServer((req, res) => {
    sockets.add(req.socket);
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const { status, drop, close, hang } = JSON.parse(body) as { status: number; drop?: boolean; close?: boolean; hang?: boolean };
      if (drop) return void req.socket.destroy();
      if (hang) return;
      if (close) return void res.writeHead(status, { connection: 'close', 'content-length': '0' }).end();
      // Alternately sized and chunked, as a server may answer either way.
      if (status % 2 === 0) res.writeHead(status, { 'content-length': '2' }).end('ok');
      else res.writeHead(status).end('chunked');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { target: new URL(`http://127.0.0.1:${(server!.address() as AddressInfo).port}/publish`), sockets };
}

it('answers each request with its own status, over as many connections as it was given', async () => {
  const { target, sockets } = await serve();
  pool = new RawConnections(target, 3);
  const statuses = Array.from({ length: 60 }, (_, i) => 200 + (i % 5));
  const answers = await Promise.all(statuses.map((status) => pool!.send(rawRequest('POST', target, JSON.stringify({ status })))));
  expect(answers).toEqual(statuses);
  expect(sockets.size).toBe(3);
});

it('fails a request whose answer it cannot read, and goes on', async () => {
  const { target } = await serve();
  pool = new RawConnections(target, 1);
  // A 200 with neither a length nor chunks: Node ends such a body by closing the connection.
  server!.removeAllListeners('request');
  let first = true;
  server!.on('request', (req, res) => {
    req.resume();
    req.on('end', () => {
      if (first) {
        first = false;
        res.useChunkedEncodingByDefault = false;
        res.shouldKeepAlive = false;
        return void res.writeHead(200).end('unsized');
      }
      res.writeHead(202, { 'content-length': '0' }).end();
    });
  });
  expect(await pool.send(rawRequest('POST', target, '{}'))).toBeNull();
  expect(await pool.send(rawRequest('POST', target, '{}'))).toBe(202);
});

it('tells a request its connection failed, and sends the next on a new one', async () => {
  const { target } = await serve();
  pool = new RawConnections(target, 1);
  expect(await pool.send(rawRequest('POST', target, JSON.stringify({ status: 202, drop: true })))).toBeNull();
  expect(await pool.send(rawRequest('POST', target, JSON.stringify({ status: 202 })))).toBe(202);
});

it('fails every request at once when no connection can be opened', async () => {
  const { target } = await serve();
  await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
  pool = new RawConnections(target, 2);
  expect(await Promise.all([1, 2, 3].map(() => pool!.send(rawRequest('GET', target))))).toEqual([null, null, null]);
  expect(await pool.send(rawRequest('GET', target))).toBeNull();
});

it('reads nothing sent before a request as its answer', async () => {
  const { target, sockets } = await serve();
  pool = new RawConnections(target, 1);
  expect(await pool.send(rawRequest('POST', target, JSON.stringify({ status: 202 })))).toBe(202);
  // An answer nobody asked for, on the idle connection: the client closes that connection for it.
  const [socket] = sockets;
  socket!.write('HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n');
  await once(socket!, 'close');
  expect(await pool.send(rawRequest('POST', target, JSON.stringify({ status: 202 })))).toBe(202);
});

it('opens a new connection after an answer that closes its own', async () => {
  const { target, sockets } = await serve();
  pool = new RawConnections(target, 1);
  for (let i = 0; i < 5; i++) expect(await pool.send(rawRequest('POST', target, JSON.stringify({ status: 503, close: true })))).toBe(503);
  expect(sockets.size).toBe(5);
});

it('gives up on a request unanswered within its time, and goes on', async () => {
  const { target } = await serve();
  pool = new RawConnections(target, 1, 200);
  expect(await pool.send(rawRequest('POST', target, JSON.stringify({ status: 202, hang: true })))).toBeNull();
  expect(await pool.send(rawRequest('POST', target, JSON.stringify({ status: 202 })))).toBe(202);
});
