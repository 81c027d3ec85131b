// A cursor is the storage sequence of the last event of a page, opaque to clients
// (base64url), so the scheme can change without breaking their loops.

export const encodeCursor = (seq: string): string => Buffer.from(`s:${seq}`).toString('base64url');

/** The sequence a cursor names, or null when it is not one of ours. */
export function decodeCursor(cursor: string): string | null {
  if (cursor.length > 64) return null;
  const match = /^s:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  // A sequence is a PostgreSQL bigint: past its range the query itself would fail.
  return match?.[1] !== undefined && BigInt(match[1]) <= 9_223_372_036_854_775_807n ? match[1] : null;
}
