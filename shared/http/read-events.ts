import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { Config } from '../config/config.ts';
import { checkEvent, type ValidationDetail } from '../event/event-check.ts';
import { isJsonObject, type Event, type EventSchema } from '../event/event.schema.ts';
import {
  emptyBatch,
  incompleteBody,
  invalidEncoding,
  invalidJson,
  tooLarge,
  unsupportedMediaType,
  validationFailed,
} from './errors.ts';

const gunzipAsync = promisify(gunzip);
const MAX_DETAILS = 50;

type Format = 'json' | 'ndjson';

const FORMATS = new Map<string, Format>([
  ['application/json', 'json'],
  ['application/x-ndjson', 'ndjson'],
  ['application/ndjson', 'ndjson'],
]);

/** The body format a Content-Type names; media types and parameters are case-insensitive (RFC 9110). */
function formatOf(contentType: string | null): Format {
  // What nearly every publisher sends, answered without splitting it apart.
  if (contentType === 'application/json') return 'json';
  const [mediaType = '', ...params] = (contentType ?? '').split(';').map((part) => part.trim().toLowerCase());
  const format = FORMATS.get(mediaType);
  if (!format) throw unsupportedMediaType('send application/json or application/x-ndjson');
  for (const param of params) {
    const [name, value = ''] = param.split('=').map((part) => part.trim());
    const charset = value.replace(/^"(.*)"$/, '$1');
    if (name === 'charset' && charset !== 'utf-8' && charset !== 'utf8') throw unsupportedMediaType('the body must be UTF-8 (charset=utf-8)');
  }
  return format;
}

/** Checked before the body is read, so a body in an unknown coding costs nothing. */
function isGzip(contentEncoding: string | null): boolean {
  const name = (contentEncoding ?? '').trim().toLowerCase();
  if (name === '' || name === 'identity') return false;
  if (name === 'gzip' || name === 'x-gzip') return true;
  throw unsupportedMediaType('content-encoding must be gzip or absent');
}

/** Reads the body, stopping as soon as it passes the limit, so a huge upload costs little. */
async function readLimited(request: Request, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(`the body is over ${maxBytes} bytes`, maxBytes);
  if (Number.isSafeInteger(declared)) {
    // A declared length bounds the body (Node's parser stops there), so it can be read whole, on
    // @hono/node-server's fast path that skips building a web stream for every request.
    try {
      return Buffer.from(await request.arrayBuffer());
    } catch {
      throw incompleteBody();
    }
  }
  if (!request.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch {
      throw incompleteBody();
    }
    if (chunk.done) break;
    size += chunk.value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(`the body is over ${maxBytes} bytes`, maxBytes);
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks, size);
}

async function gunzipLimited(raw: Buffer, maxBytes: number): Promise<Buffer> {
  try {
    // maxOutputLength stops a zip bomb while inflating, not after.
    return await gunzipAsync(raw, { maxOutputLength: maxBytes });
  } catch (error) {
    if (error instanceof RangeError) throw tooLarge(`the body is over ${maxBytes} bytes once gunzipped`, maxBytes);
    throw invalidEncoding();
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function toText(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalidJson('the body is not valid UTF-8');
  }
}

/**
 * V8's message without the excerpt of the input it quotes (`Unexpected token 'x', ..."a": x, "b"... is
 * not valid JSON`): an error never sends the client's data back.
 */
function jsonProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/, (?:\.\.\.)?"[\s\S]*$/, '').replace(/^"[\s\S]*" is not valid JSON$/, 'unexpected input').slice(0, 100);
}

function parse(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidJson(`${where} is not valid JSON: ${jsonProblem(error)}`);
  }
}

const BODY_SHAPES = 'one event object, an array of events or {"events": [...]}';

function parseJsonBody(text: string): unknown[] {
  if (text.trim() === '') return [];
  const parsed = parse(text, 'the body');
  if (Array.isArray(parsed)) return parsed;
  if (!isJsonObject(parsed)) throw invalidJson(`the body must be ${BODY_SHAPES}`);
  // An event never has an `events` field (unknown fields are refused), so the wrapper is unambiguous.
  if (!Object.hasOwn(parsed, 'events')) return [parsed];
  const { events, ...rest } = parsed;
  if (!Array.isArray(events)) throw invalidJson('"events" must be an array of events');
  if (Object.keys(rest).length > 0) throw invalidJson('a {"events": [...]} body takes no other field');
  return events;
}

function parseNdjsonBody(text: string): unknown[] {
  const events: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line !== '') events.push(parse(line, `line ${i + 1}`));
  }
  return events;
}

type ReadLimits = Pick<Config['limits'], 'maxBodyBytes' | 'maxEventsPerRequest'>;

/**
 * The validated events of a request, all or none: any problem throws an
 * AppError of the contract's shape before anything is queued or stored. The
 * checks run cheapest first: headers, then the size while reading, then parsing.
 *
 * @example const events = await readEvents(c.req.raw, config.limits, schema)
 */
export async function readEvents(
  request: Request,
  limits: ReadLimits,
  schema: EventSchema,
): Promise<Event[]> {
  const format = formatOf(request.headers.get('content-type'));
  const gzipped = isGzip(request.headers.get('content-encoding'));
  const raw = await readLimited(request, limits.maxBodyBytes);
  const text = toText(gzipped ? await gunzipLimited(raw, limits.maxBodyBytes) : raw);
  const items = format === 'json' ? parseJsonBody(text) : parseNdjsonBody(text);
  if (items.length === 0) throw emptyBatch();
  if (items.length > limits.maxEventsPerRequest) {
    throw tooLarge(`the request holds ${items.length} events, over the limit of ${limits.maxEventsPerRequest}`, limits.maxEventsPerRequest);
  }
  return validateAll(items, schema);
}

function validateAll(items: unknown[], schema: EventSchema): Event[] {
  const events: Event[] = [];
  const details: ValidationDetail[] = [];
  for (let index = 0; index < items.length; index++) {
    const checked = checkEvent(schema, items[index], index);
    if ('event' in checked) events.push(checked.event);
    else details.push(...checked.details.slice(0, MAX_DETAILS - details.length));
  }
  if (details.length > 0) throw validationFailed(details);
  return events;
}
