import fc from 'fast-check';

// Generators of valid events and of ways to break them, shared by the hostile suites.

/** Strings that have hurt other systems: prototype keys, SQL, escapes, Unicode that normalisation would change. */
export const HOSTILE_STRINGS = [
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  "'; DROP TABLE events; --", "Robert'); DELETE FROM events WHERE ('1'='1", '$1', '\\', '"', '%s', '${x}', '<script>alert(1)</script>',
  'é', 'e\u0301', 'ﬁ', '日本語', '😀', '👩‍👩‍👧', '\u2028', '\u200b', '\ufeff', 'Ω', '\ufffd',
];

const codePoint = (ranges: Array<[number, number]>) =>
  fc.oneof(...ranges.map(([min, max]) => fc.integer({ min, max }))).map((cp) => String.fromCodePoint(cp));

/** A character of event_id or source: anything but a control character or a lone surrogate. */
const textChar = fc.oneof(
  { weight: 3, arbitrary: codePoint([[0x20, 0x7e]]) },
  { weight: 1, arbitrary: codePoint([[0xa0, 0xd7ff], [0xe000, 0x10ffff]]) },
);

/** A character of a payload string or key: anything but U+0000 or a lone surrogate (controls are fine in jsonb). */
const payloadChar = fc.oneof(
  { weight: 3, arbitrary: codePoint([[0x01, 0x7f]]) },
  { weight: 1, arbitrary: codePoint([[0x80, 0xd7ff], [0xe000, 0x10ffff]]) },
);

const TOPIC_CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:/', 'é', 'ж', '日', 'ß', 'Ω', '٣'];

const payloadString = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ unit: payloadChar, maxLength: 16 }));

/** A payload object; entries go through Object.fromEntries, so `__proto__` is an own key as JSON.parse makes it. */
const payload = fc
  .array(fc.tuple(payloadString, fc.jsonValue({ maxDepth: 3, stringUnit: payloadChar })), { maxLength: 6 })
  .map((entries) => Object.fromEntries(entries) as Record<string, unknown>);

const FIRST_SECOND = Date.parse('0001-01-02T00:00:00Z') / 1000;
const LAST_SECOND = Date.parse('9999-12-30T23:59:59Z') / 1000;
const pad = (n: number) => String(n).padStart(2, '0');

/** An RFC 3339 timestamp in any zone, and the UTC text GET /events gives back for it (microseconds, no trailing zeros). */
const timestamp = fc
  .record({
    seconds: fc.integer({ min: FIRST_SECOND, max: LAST_SECOND }),
    offsetMinutes: fc.integer({ min: -959, max: 959 }),
    zulu: fc.boolean(),
    fraction: fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 6 }),
    lowercase: fc.boolean(),
  })
  .map(({ seconds, offsetMinutes, zulu, fraction, lowercase }) => {
    const offset = zulu ? 0 : offsetMinutes;
    const wallClock = new Date((seconds + offset * 60) * 1000).toISOString().slice(0, 19);
    const zone = zulu ? 'Z' : `${offset < 0 ? '-' : '+'}${pad(Math.trunc(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
    const text = `${wallClock}${fraction ? `.${fraction}` : ''}${zone}`;
    const kept = fraction.replace(/0+$/, '');
    return {
      text: lowercase ? text.toLowerCase() : text,
      utc: `${new Date(seconds * 1000).toISOString().slice(0, 19)}${kept ? `.${kept}` : ''}Z`,
    };
  });

export type GeneratedEvent = {
  /** What is sent. */
  event: Record<string, unknown>;
  /** What GET /events must give back for it (without stored_at). */
  expected: Record<string, unknown>;
};

let serial = 0;

/**
 * A valid event under the default limits. Its topic and event_id end in a
 * serial number, so each generated event is a key of its own and a topic
 * query finds exactly it.
 */
export const validEvent: fc.Arbitrary<GeneratedEvent> = fc
  .record({
    topic: fc.string({ unit: fc.constantFrom(...TOPIC_CHARS), minLength: 1, maxLength: 100 }),
    eventId: fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ unit: textChar, minLength: 1, maxLength: 100 })),
    source: fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ unit: textChar, minLength: 1, maxLength: 128 })),
    timestamp,
    payload,
  })
  .map(({ topic, eventId, source, timestamp: ts, payload: p }) => {
    const n = ++serial;
    const event = { topic: `${topic}:${n}`, event_id: `${eventId}#${n}`, timestamp: ts.text, source, payload: p };
    return { event, expected: { ...event, timestamp: ts.utc, payload: JSON.parse(JSON.stringify(p)) } };
  });

const FIELDS = ['topic', 'event_id', 'timestamp', 'source', 'payload'] as const;
const TEXT_FIELDS = ['topic', 'event_id', 'source'] as const;

const BAD_TIMESTAMPS = [
  '2026-11-25T08:00:00', '2026-11-25', '2026-11-25 08:00:00Z', '2026-02-29T00:00:00Z', '2026-02-31T00:00:00Z', '2026-04-31T00:00:00Z',
  '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z', '2026-11-00T00:00:00Z', '2026-11-25T24:00:00Z', '2026-11-25T08:60:00Z',
  '2026-12-31T23:59:60Z', '2026-11-25T08:00:00+24:00', '2026-11-25T08:00:00+16:00', '2026-11-25T08:00:00-23:59', '2026-11-25T08:00:00+0100', '0000-01-01T00:00:00Z', '10000-01-01T00:00:00Z',
  '0001-01-01T00:00:00+00:01', '9999-12-31T23:59:59-00:01', '2026-11-25T08:00:00.Z', '2026-11-25T08:00:00.1234567890Z',
  'yesterday', '', '1764057600', '２０２６-11-25T08:00:00Z', '2026-11-25T08:00:00Z ', ' 2026-11-25T08:00:00Z',
];

const WRONG_TYPES: unknown[] = [null, 0, 1.5, -1, true, false, [], ['x'], { a: 1 }];

const insertAt = (text: string, at: number, insert: string) => {
  const chars = [...text];
  const i = at % (chars.length + 1);
  return [...chars.slice(0, i), insert, ...chars.slice(i)].join('');
};

type Mutate = (event: Record<string, unknown>) => string;
const asText = (f: (event: Record<string, unknown>) => unknown): Mutate => (event) => JSON.stringify(f(event));

const field = fc.constantFrom(...FIELDS);
const textField = fc.constantFrom(...TEXT_FIELDS);

/** Every way below breaks exactly one rule of the contract's event table. */
const mutation: fc.Arbitrary<Mutate> = fc.oneof(
  field.map((f) => asText(({ [f]: _dropped, ...rest }) => rest)),
  fc.tuple(field, fc.constantFrom(...WRONG_TYPES)).filter(([f, value]) => !(f === 'payload' && value !== null && typeof value === 'object' && !Array.isArray(value)))
    .map(([f, value]) => asText((e) => ({ ...e, [f]: value }))),
  textField.map((f) => asText((e) => ({ ...e, [f]: '' }))),
  fc.tuple(textField, fc.constantFrom('x', '😀', 'é')).map(([f, c]) => asText((e) => ({ ...e, [f]: c.repeat(129) }))),
  fc.tuple(textField, fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f })), fc.nat())
    .map(([f, cp, at]) => asText((e) => ({ ...e, [f]: insertAt(String(e[f]), at, String.fromCharCode(cp)) }))),
  fc.tuple(textField, fc.integer({ min: 0xd800, max: 0xdfff }), fc.nat())
    .map(([f, unit, at]) => asText((e) => ({ ...e, [f]: insertAt(String(e[f]), at, String.fromCharCode(unit)) }))),
  fc.tuple(fc.constantFrom(' ', '#', '?', '*', '+', '@', ',', '😀', '\u0301', '\\', '%', '\u00a0'), fc.nat())
    .map(([c, at]) => asText((e) => ({ ...e, topic: insertAt(String(e.topic), at, c) }))),
  fc.constantFrom(...BAD_TIMESTAMPS).map((ts) => asText((e) => ({ ...e, timestamp: ts }))),
  fc.tuple(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(FIELDS as readonly string[]).includes(k)), fc.jsonValue({ maxDepth: 1 }))
    .map(([key, value]) => asText((e) => Object.fromEntries([...Object.entries(e), [key, value]]))),
  fc.constant(asText((e) => {
    let deep: unknown = e.payload;
    for (let i = 0; i < 32; i++) deep = { nested: deep };
    return { ...e, payload: deep };
  })),
  fc.tuple(fc.constantFrom('\u0000', '\ud800', '\udfff', 'a\udbffb'), fc.constantFrom('key', 'value', 'nested'))
    .map(([bad, where]) => asText((e) => {
      const p = e.payload as Record<string, unknown>;
      const placed = where === 'key' ? { [`k${bad}`]: 1 } : where === 'value' ? { v: `x${bad}` } : { list: [1, { deep: [bad] }] };
      return { ...e, payload: { ...p, ...placed } };
    })),
  fc.constant(asText((e) => ({ ...e, payload: { ...(e.payload as object), big: 'x'.repeat(64 * 1024) } }))),
  // A key of its own, written once: with a key the payload already has, JSON.parse would keep the later value.
  fc.constantFrom('1e400', '-1e999').map((n) => (e: Record<string, unknown>) =>
    JSON.stringify({ ...e, payload: { ...(e.payload as object), 'out-of-range': 0 } }).replace('"out-of-range":0', `"out-of-range":${n}`)),
  fc.constantFrom('null', '42', '"event"', 'true', '[]').map((text) => () => text),
);

/** A batch (JSON array text) of valid events with one broken event at `index`. */
export const batchWithOneBroken = fc
  .record({
    before: fc.array(validEvent, { maxLength: 3 }),
    broken: validEvent,
    mutate: mutation,
    after: fc.array(validEvent, { maxLength: 3 }),
  })
  .map(({ before, broken, mutate, after }) => ({
    index: before.length,
    body: `[${[...before.map((g) => JSON.stringify(g.event)), mutate(broken.event), ...after.map((g) => JSON.stringify(g.event))].join(',')}]`,
  }));

/**
 * A request body that can never be accepted: broken batches, strict prefixes of
 * a valid event (never valid JSON), random bytes, random JSON and random text.
 */
export const invalidBody: fc.Arbitrary<Buffer> = fc.oneof(
  batchWithOneBroken.map((b) => Buffer.from(b.body)),
  fc.tuple(validEvent, fc.nat()).map(([g, n]) => {
    const text = JSON.stringify(g.event);
    return Buffer.from(text.slice(0, n % text.length));
  }),
  fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue({ maxDepth: 4 }).map((value) => Buffer.from(JSON.stringify(value))),
  fc.string({ unit: 'binary', maxLength: 512 }).map((text) => Buffer.from(text)),
);
