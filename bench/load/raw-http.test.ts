import { describe, expect, it } from 'vitest';
import { answerIn, rawRequest } from './raw-http.ts';

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('answerIn', () => {
  const sized = 'HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\ncontent-length: 14\r\n\r\n{"accepted":1}';

  it('ends an answer with a Content-Length where its body does, and no sooner', () => {
    expect(answerIn(bytes(sized))).toEqual({ status: 202, length: sized.length, keepAlive: true });
    expect(answerIn(bytes(`${sized}HTTP/1.1 200 OK`))).toEqual({ status: 202, length: sized.length, keepAlive: true });
    expect(answerIn(bytes(sized.slice(0, -1)))).toBeNull();
    expect(answerIn(bytes(sized.slice(0, 40)))).toBeNull();
  });

  const chunked = 'HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n3\r\n:1}\r\n0\r\n\r\n';

  it('ends a chunked answer after its last chunk, and no sooner', () => {
    expect(answerIn(bytes(chunked))).toEqual({ status: 202, length: chunked.length, keepAlive: true });
    for (let cut = chunked.indexOf('\r\n\r\n') + 4; cut < chunked.length; cut++) expect(answerIn(bytes(chunked.slice(0, cut)))).toBeNull();
  });

  it('ends a chunked answer after its trailers', () => {
    const trailed = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Trailer: 1\r\n\r\n';
    expect(answerIn(bytes(trailed))).toEqual({ status: 200, length: trailed.length, keepAlive: true });
    expect(answerIn(bytes(trailed.slice(0, -2)))).toBeNull();
  });

  it('reads no body after a 204 or a 304', () => {
    for (const status of [204, 304]) {
      const empty = `HTTP/1.1 ${status} X\r\nContent-Length: 10\r\n\r\n`;
      expect(answerIn(bytes(`${empty}HTTP/1.1 200`))).toEqual({ status, length: empty.length, keepAlive: true });
    }
  });

  it('goes by the chunks when an answer also names a length', () => {
    const both = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n';
    expect(answerIn(bytes(both))).toEqual({ status: 200, length: both.length, keepAlive: true });
  });

  it('skips an interim answer to the one that follows it', () => {
    const interim = 'HTTP/1.1 100 Continue\r\n\r\n';
    expect(answerIn(bytes(interim))).toBeNull();
    expect(answerIn(bytes(`${interim}${sized}`))).toEqual({ status: 202, length: interim.length + sized.length, keepAlive: true });
  });

  it('says when the server will close the connection after the answer', () => {
    const closing = 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
    expect(answerIn(bytes(closing))).toEqual({ status: 503, length: closing.length, keepAlive: false });
  });

  it('refuses what it cannot read as one answer', () => {
    expect(() => answerIn(bytes('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nok'))).toThrow(/without Content-Length/);
    expect(() => answerIn(bytes('SSH-2.0-OpenSSH\r\n\r\n'))).toThrow(/not an HTTP\/1.1 answer/);
    expect(() => answerIn(bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'))).toThrow(/chunk size/);
  });
});

describe('rawRequest', () => {
  it('writes a POST with its length in bytes, and a GET without a body', () => {
    const target = new URL('http://127.0.0.1:8080/publish?wait=false');
    expect(rawRequest('POST', target, '{"é":1}').toString()).toBe(
      'POST /publish?wait=false HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{"é":1}',
    );
    expect(rawRequest('GET', new URL('/healthz', target)).toString()).toBe('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n');
  });
});
