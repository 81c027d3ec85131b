import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

export type SyncRequest = { method: string; url: string; headers: Record<string, string>; body?: string };
export type SyncResponse = { status: number; headers: Record<string, string>; body: string; error: string; durationMs: number };

// The worker does the fetch; the caller's thread waits on a shared flag. This is
// how a k6-style blocking `http.post` is had in Node, without a child process per request.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { port, flag } = workerData;
port.on('message', async (request) => {
  const started = Date.now();
  let answer;
  try {
    const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
    answer = { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text(), error: '' };
  } catch (error) {
    answer = { status: 0, headers: {}, body: '', error: String(error.cause ?? error) };
  }
  port.postMessage({ ...answer, durationMs: Date.now() - started });
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

/**
 * A blocking HTTP client: `request()` returns only when the answer is in.
 *
 * @example const http = createSyncHttp(); http.request({ method: 'GET', url, headers: {} }); http.close()
 */
export function createSyncHttp() {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { port: port2, flag }, transferList: [port2] });
  worker.unref();
  return {
    request(request: SyncRequest): SyncResponse {
      Atomics.store(flag, 0, 0);
      port1.postMessage(request);
      if (Atomics.wait(flag, 0, 0, 60_000) === 'timed-out') throw new Error(`no answer from ${request.url} within 60 s`);
      const message = receiveMessageOnPort(port1);
      if (!message) throw new Error(`the HTTP worker signalled without an answer for ${request.url}`);
      return message.message as SyncResponse;
    },
    close: () => worker.terminate(),
  };
}

/** Sleeps the calling thread, as k6's `sleep()` does. */
export function sleepSync(ms: number) {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
