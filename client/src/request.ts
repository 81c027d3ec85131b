import type { Failure } from './errors.ts';

const OPEN = 0x5b; // [
const COMMA = 0x2c;
const CLOSE = 0x5d; // ]

/** Bytes of the JSON array that holds events serialized as `events` are. */
export const arrayBytes = (events: number, eventBytes: number) => eventBytes + Math.max(events - 1, 0) + 2;

/** A request body: bytes over a plain ArrayBuffer, as fetch and Blob take them. */
export type Body = Uint8Array<ArrayBuffer>;

/** A JSON array of already serialized events, joined without parsing them again. */
export function jsonArray(events: readonly Uint8Array[]): Body {
  const body = new Uint8Array(arrayBytes(events.length, events.reduce((n, e) => n + e.length, 0)));
  let at = 0;
  body[at++] = OPEN;
  events.forEach((event, i) => {
    if (i > 0) body[at++] = COMMA;
    body.set(event, at);
    at += event.length;
  });
  body[at] = CLOSE;
  return body;
}

// Below this a body fits a packet or two: compressing it costs more than it saves.
const GZIP_FROM_BYTES = 1024;

/**
 * The body gzipped when that makes it at least a tenth smaller, else null.
 * CompressionStream is in browsers and in Node 18+, so one path serves both.
 */
export async function gzipIfSmaller(body: Body): Promise<Body | null> {
  if (body.length < GZIP_FROM_BYTES || typeof CompressionStream !== 'function') return null;
  const stream = new Blob([body]).stream().pipeThrough(new CompressionStream('gzip'));
  const zipped = new Uint8Array(await new Response(stream).arrayBuffer());
  return zipped.length <= body.length * 0.9 ? zipped : null;
}

/** The outcome of one request: accepted (any 2xx), or why not and what Retry-After said. */
export type Answer = { ok: true } | { ok: false; failure: Failure; retryAfter: string | null };

async function errorBody(response: Response): Promise<{ code: string; message: string; body?: unknown }> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    return {
      code: typeof body.error === 'string' ? body.error : `http_${response.status}`,
      message: typeof body.message === 'string' ? body.message : response.statusText,
      body,
    };
  } catch {
    // Not our service's JSON (a proxy's page, say): a short excerpt says enough.
    return { code: `http_${response.status}`, message: text.slice(0, 200) || response.statusText };
  }
}

/**
 * POSTs one body and reads the answer. Never throws: a refused or cut
 * connection, or no answer within `timeoutMs`, is a failure with status 0.
 */
export async function post(endpoint: URL, body: Body, headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
  let response: Response;
  try {
    response = await fetch(endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return { ok: false, failure: { status: 0, code: 'timeout', message: `no answer within ${timeoutMs} ms` }, retryAfter: null };
    return { ok: false, failure: { status: 0, code: 'network_error', message: e.cause?.code ?? e.cause?.message ?? e.message }, retryAfter: null };
  }
  if (response.ok) {
    // The status is the server's word that the batch is kept; a body cut short after it changes nothing.
    await response.arrayBuffer().catch(() => undefined);
    return { ok: true };
  }
  return { ok: false, failure: { status: response.status, ...(await errorBody(response)) }, retryAfter: response.headers.get('retry-after') };
}
