import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../dev/services.ts';
import { textArrayLiteral } from './text-array.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase('text_array');
});
afterAll(() => t.drop());

const roundTrip = async (values: string[]) =>
  (await sql<{ v: string | null }>`SELECT unnest(${textArrayLiteral(values)}::text[]) AS v`.execute(t.db)).rows.map((row) => row.v);

// What an event id or a source may hold: anything but control characters... and what a literal treats specially.
const HOSTILE = ['plain', '', 'a"b', 'a\\b', '\\"', '"', '\\', '{a,b}', '}', 'NULL', 'null', ' spaced ', 'comma,inside',
  "it's", 'é 😀 \u2028', 'x'.repeat(5000)];

it('gives PostgreSQL every string as it was, in order', async () => {
  expect(await roundTrip(HOSTILE)).toEqual(HOSTILE);
});

it('escapes nothing when no string needs it, and every string when one does', async () => {
  expect(textArrayLiteral(['a', 'b c'])).toBe('{"a","b c"}');
  expect(await roundTrip(['a', 'b\\', 'c"'])).toEqual(['a', 'b\\', 'c"']);
});

it('writes an empty array as one', async () => {
  expect(textArrayLiteral([])).toBe('{}');
  expect(await roundTrip([])).toEqual([]);
  // Not an array of one empty string: that is {""}.
  expect(await roundTrip([''])).toEqual(['']);
});

it('serves a timestamptz[] parameter too', async () => {
  const instants = ['2026-11-25T08:00:00Z', '2026-11-25T08:00:00.123456+05:30'];
  const { rows } = await sql<{ v: Date }>`SELECT unnest(${textArrayLiteral(instants)}::timestamptz[]) AS v`.execute(t.db);
  expect(rows.map((row) => row.v.toISOString())).toEqual(['2026-11-25T08:00:00.000Z', '2026-11-25T02:30:00.123Z']);
});
