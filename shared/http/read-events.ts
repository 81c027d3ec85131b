import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import * as v from 'valibot';
import type { Config } from '../config/config.ts';
import { eventSchema, type Event } from '../event/event.schema.ts';
import {
  AppError,
  emptyBatch,
  invalidJson,
  tooLarge,
  unsupportedMediaType,
  validationFailed,
  type ValidationDetail,
} from './errors.ts';

const gunzipAsync = promisify(gunzip);
const MAX_DETAILS = 50;

type Format = 'json' | 'ndjson';

function formatOf(contentType: string | undefined): Format {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'application/json') return 'json';
  if (mediaType === 'application/x-ndjson' || mediaType === 'application/ndjson') return 'ndjson';
  throw unsupportedMediaType('send application/json or application/x-ndjson');
}

/** Reads the body, stopping as soon as it passes the limit, so a huge upload costs little. */
async function readLimited(request: Request, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(`the body is over ${maxBytes} bytes`, maxBytes);
  if (!request.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(`the body is over ${maxBytes} bytes`, maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

async function decode(raw: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const name = encoding?.trim().toLowerCase() ?? 'identity';
  if (name === 'identity' || name === '') return raw;
  if (name !== 'gzip' && name !== 'x-gzip') throw unsupportedMediaType(`content-encoding ${name.slice(0, 32)} is not supported (use gzip)`);
  try {
    // maxOutputLength stops a zip bomb while inflating, not after.
    return await gunzipAsync(raw, { maxOutputLength: maxBytes });
  } catch (error) {
    if (error instanceof RangeError) throw tooLarge(`the body is over ${maxBytes} bytes once gunzipped`, maxBytes);
    throw new AppError(400, 'invalid_encoding', 'the body is not valid gzip');
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

function parseJsonBody(text: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalidJson(`the body is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
  }
  if (Array.isArray(parsed)) return parsed;
  if (typeof parsed === 'object' && parsed !== null && Object.hasOwn(parsed, 'events')) {
    const { events, ...rest } = parsed as { events: unknown };
    if (!Array.isArray(events)) throw invalidJson('"events" must be an array of events');
    const extra = Object.keys(rest);
    if (extra.length > 0) throw invalidJson('a {"events": [...]} body takes no other field');
    return events;
  }
  return [parsed];
}

function parseNdjsonBody(text: string): unknown[] {
  const events: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    try {
      events.push(JSON.parse(line));
    } catch (error) {
      throw invalidJson(`line ${i + 1} is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
    }
  }
  return events;
}

type ReadLimits = Pick<Config['limits'], 'maxBodyBytes' | 'maxEventsPerRequest'>;

/**
 * The validated events of a request, all or none: any problem throws an
 * AppError of the contract's shape before anything is queued or stored.
 *
 * @example const events = await readEvents(c.req.raw, config.limits, schema)
 */
export async function readEvents(
  request: Request,
  limits: ReadLimits,
  schema: ReturnType<typeof eventSchema>,
): Promise<Event[]> {
  const format = formatOf(request.headers.get('content-type') ?? undefined);
  const raw = await readLimited(request, limits.maxBodyBytes);
  const body = await decode(raw, request.headers.get('content-encoding') ?? undefined, limits.maxBodyBytes);
  const text = toText(body);
  const items = format === 'json' ? parseJsonBody(text) : parseNdjsonBody(text);
  if (items.length === 0) throw emptyBatch();
  if (items.length > limits.maxEventsPerRequest) {
    throw tooLarge(`the request holds ${items.length} events, over the limit of ${limits.maxEventsPerRequest}`, limits.maxEventsPerRequest);
  }
  return validateAll(items, schema);
}

function validateAll(items: unknown[], schema: ReturnType<typeof eventSchema>): Event[] {
  const events: Event[] = [];
  const details: ValidationDetail[] = [];
  for (let index = 0; index < items.length; index++) {
    const result = v.safeParse(schema, items[index]);
    if (result.success) {
      events.push(result.output);
      continue;
    }
    for (const issue of result.issues) {
      if (details.length < MAX_DETAILS) details.push({ index, path: (v.getDotPath(issue) ?? '').slice(0, 128), message: issue.message });
    }
  }
  if (details.length > 0) throw validationFailed(details);
  return events;
}
