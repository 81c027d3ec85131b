import { createServer, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** One request as the scripted server got it, body gunzipped and parsed. */
export type Received = { n: number; path: string; headers: IncomingHttpHeaders; rawBytes: number; body: unknown; at: number };

/**
 * What to do with a request: answer it, cut the connection without an answer
 * (after the body was read: the request went through, its answer is lost), or
 * never answer (until the server closes).
 */
export type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'cut' | 'hang';

/**
 * A real HTTP server on 127.0.0.1 whose answers a test scripts, for testing a
 * publisher's batching and retries: `reply` decides per request (numbered from 0).
 *
 * @example const s = await scriptedServer((r) => (r.n === 0 ? { status: 503 } : { status: 202 }))
 */
export async function scriptedServer(reply: (request: Received) => Reply | Promise<Reply>) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      const request: Received = { n: received.length, path: req.url ?? '', headers: req.headers, rawBytes: raw.length, body: JSON.parse(text), at: Date.now() };
      received.push(request);
      const answer = await reply(request);
      if (answer === 'hang') return;
      if (answer === 'cut') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body ?? { accepted: Array.isArray(request.body) ? request.body.length : 1 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    /** Every event received, in arrival order, over all requests (retries included). */
    events: () => received.flatMap((r) => r.body as Array<Record<string, unknown>>),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
