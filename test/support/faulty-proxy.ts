import { connect, createServer, type Socket } from 'node:net';

/**
 * What the proxy does with one connection: `pass` forwards one request and its
 * answer, then closes; `refuse` resets the connection before reading anything;
 * `drop-answer` forwards the request and throws away the answer once the server
 * has sent it (the request went through; the client never learns).
 */
export type ProxyFault = 'pass' | 'refuse' | 'drop-answer';

/**
 * A TCP proxy on 127.0.0.1 in front of an HTTP server that injects the network
 * failures a publisher must survive, by connection number (from 0). Each
 * connection carries one exchange, so keep-alive cannot route around the faults.
 *
 * @example const proxy = await faultyProxy(runner.url, (n) => (n % 3 === 1 ? 'refuse' : 'pass'))
 */
export async function faultyProxy(target: string, faultOf: (connection: number) => ProxyFault) {
  const { hostname, port } = new URL(target);
  const counts: Record<ProxyFault, number> = { pass: 0, refuse: 0, 'drop-answer': 0 };
  const open = new Set<Socket>();
  let connections = 0;
  const server = createServer((client) => {
    const fault = faultOf(connections++);
    counts[fault]++;
    if (fault === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => {
        open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      socket.on('error', () => undefined); // the close handler tears both down
    }
    client.pipe(upstream);
    upstream.once('data', (answer: Buffer) => {
      // A small JSON answer arrives in one chunk; a longer one cut here is one more lost answer.
      if (fault === 'pass') client.end(answer);
      else client.destroy();
      upstream.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    counts,
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
