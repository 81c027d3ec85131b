import { connect, type Socket } from 'node:net';

const HEADERS_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** A request written out once, before the clock starts: its bytes go to the socket as they are. */
export function rawRequest(method: 'GET' | 'POST', target: URL, body?: string): Buffer {
  const head = `${method} ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n`;
  if (body === undefined) return Buffer.from(`${head}\r\n`);
  return Buffer.from(`${head}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/**
 * Where the answer that starts `data` ends, its status, and whether the server keeps the connection
 * open after it; null while it is incomplete. Reads a chunked body or one of `Content-Length` (and
 * none after a 204 or 304), skipping interim 1xx answers: all that an HTTP/1.1 server answers a
 * request with, short of closing the connection. Throws on anything else.
 */
export function answerIn(data: Buffer): { status: number; length: number; keepAlive: boolean } | null {
  const headersEnd = data.indexOf(HEADERS_END);
  if (headersEnd < 0) return null;
  const head = data.toString('latin1', 0, headersEnd);
  const status = Number(head.slice(9, 12));
  if (!/^HTTP\/1\.[01] \d{3}/.test(head) || !Number.isInteger(status)) throw new Error(`not an HTTP/1.1 answer: ${head.slice(0, 40)}`);
  const bodyStart = headersEnd + HEADERS_END.length;
  if (status < 200) {
    // An interim answer (100 Continue, 103 Early Hints): the request's own answer follows it.
    const final = answerIn(data.subarray(bodyStart));
    return final && { ...final, length: bodyStart + final.length };
  }
  const keepAlive = !/\r\nconnection:[^\r]*close/i.test(head);
  if (status === 204 || status === 304) return { status, length: bodyStart, keepAlive }; // never a body
  const chunked = /\r\ntransfer-encoding:[^\r]*chunked/i.test(head);
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  // Chunked framing wins over a Content-Length beside it (RFC 9112, 6.3).
  if (length && !chunked) {
    const end = bodyStart + Number(length[1]);
    return data.length >= end ? { status, length: end, keepAlive } : null;
  }
  if (!chunked) throw new Error(`an answer without Content-Length or chunked body: ${head.slice(0, 40)}`);
  // Chunks: <size in hex>[;extensions]\r\n<data>\r\n ... 0\r\n[trailers]\r\n
  let at = bodyStart;
  for (;;) {
    const lineEnd = data.indexOf(CRLF, at);
    if (lineEnd < 0) return null;
    const size = Number.parseInt(data.toString('latin1', at, lineEnd), 16);
    if (Number.isNaN(size)) throw new Error('a chunked answer with a malformed chunk size');
    if (size === 0) {
      const trailersEnd = data.indexOf(CRLF, lineEnd + CRLF.length);
      if (trailersEnd < 0) return null;
      // No trailers: the final CRLF follows the size line at once; else skip to the blank line.
      if (trailersEnd === lineEnd + CRLF.length) return { status, length: trailersEnd + CRLF.length, keepAlive };
      const blank = data.indexOf(HEADERS_END, lineEnd);
      return blank < 0 ? null : { status, length: blank + HEADERS_END.length, keepAlive };
    }
    at = lineEnd + CRLF.length + size + CRLF.length;
    if (data.length < at) return null;
  }
}

type Exchange = { request: Buffer; settle: (status: number | null) => void };

/**
 * One keep-alive connection: an exchange at a time; says when it is free again, or gone. It is
 * closed instead of reused when the server said it would close it, sent bytes nobody asked for,
 * or did not answer within `answerWithinMs`: the request then fails, and nothing stale is read
 * as the next one's answer.
 */
class Connection {
  readonly #socket: Socket;
  readonly #answerWithinMs: number;
  #current: Exchange | null = null;
  #deadline: NodeJS.Timeout | undefined;
  #data: Buffer = Buffer.alloc(0);

  constructor(host: string, port: number, answerWithinMs: number, onFree: (connection: Connection) => void, onGone: (connection: Connection, connected: boolean) => void) {
    this.#answerWithinMs = answerWithinMs;
    let connected = false;
    this.#socket = connect({ host, port, noDelay: true });
    this.#socket.once('connect', () => {
      connected = true;
      onFree(this);
    });
    this.#socket.on('data', (chunk: Buffer) => {
      this.#data = this.#data.length === 0 ? chunk : Buffer.concat([this.#data, chunk]);
      let answer: ReturnType<typeof answerIn>;
      try {
        answer = answerIn(this.#data);
      } catch {
        return void this.#socket.destroy(); // an answer it cannot read: the request fails, as on a dropped connection
      }
      if (!this.#current) return void this.#socket.destroy(); // an answer to nothing asked
      if (!answer) return;
      clearTimeout(this.#deadline);
      const { settle } = this.#current;
      this.#current = null;
      // One request at a time a connection: bytes after its answer are not HTTP we can follow.
      if (answer.keepAlive && answer.length === this.#data.length) onFree(this);
      else this.#socket.destroy();
      this.#data = Buffer.alloc(0);
      settle(answer.status);
    });
    this.#socket.on('error', () => this.#socket.destroy());
    this.#socket.once('close', () => {
      clearTimeout(this.#deadline);
      this.#current?.settle(null);
      this.#current = null;
      onGone(this, connected);
    });
  }

  start(exchange: Exchange): void {
    this.#current = exchange;
    this.#deadline = setTimeout(() => this.#socket.destroy(), this.#answerWithinMs);
    this.#socket.write(exchange.request);
  }

  close(): void {
    this.#socket.destroy();
  }
}

/**
 * HTTP/1.1 keep-alive connections that send pre-built requests, one at a time a connection,
 * first come first served, and tell each caller its answer's status (null: the connection
 * failed under it, and another is opened in its place; or none could be opened at all). A
 * client this small costs a paced run a fraction of what a general one does (undici took
 * about 100 µs of CPU a request here): on two cores shared with the system, the sender's own
 * CPU would delay the answers it times.
 */
export class RawConnections {
  readonly #idle: Connection[] = [];
  readonly #waiting: Exchange[] = [];
  readonly #all = new Set<Connection>();
  #closed = false;

  /** `answerWithinMs`: how long a request waits for its answer before its connection is given up. */
  constructor(target: URL, connections: number, answerWithinMs = 30_000) {
    const open = () => {
      const connection = new Connection(target.hostname, Number(target.port || 80), answerWithinMs, (c) => {
        this.#idle.push(c);
        this.#next();
      }, (c, connected) => {
        this.#all.delete(c);
        const index = this.#idle.indexOf(c);
        if (index >= 0) this.#idle.splice(index, 1);
        // A connection that was refused is not retried: with none left, every request fails at once.
        if (connected && !this.#closed) open();
        else if (this.#all.size === 0) this.#failWaiting();
      });
      this.#all.add(connection);
    };
    for (let i = 0; i < connections; i++) open();
  }

  /** Sends `request` on the first free connection; resolves with the answer's status, or null if its connection failed. */
  send(request: Buffer): Promise<number | null> {
    return new Promise((settle) => {
      this.#waiting.push({ request, settle });
      if (this.#all.size === 0) this.#failWaiting();
      else this.#next();
    });
  }

  close(): void {
    this.#closed = true;
    for (const connection of this.#all) connection.close();
  }

  #failWaiting(): void {
    for (const { settle } of this.#waiting.splice(0)) settle(null);
  }

  #next(): void {
    // The longest idle first, so that no connection sits out a server's keep-alive timeout.
    while (this.#waiting.length > 0 && this.#idle.length > 0) this.#idle.shift()!.start(this.#waiting.shift()!);
  }
}
