// Cursors are opaque to clients (base64url), so the scheme can change without
// breaking their loops. An events cursor is the storage sequence of the last
// event of a page; a topics cursor is the name of the last topic of a page.

export const encodeCursor = (seq: string): string => Buffer.from(`s:${seq}`).toString('base64url');

/** The sequence a cursor names, or null when it is not one of ours. */
export function decodeCursor(cursor: string): string | null {
  if (cursor.length > 64) return null;
  const match = /^s:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  // A sequence is a PostgreSQL bigint: past its range the query itself would fail.
  return match?.[1] !== undefined && BigInt(match[1]) <= 9_223_372_036_854_775_807n ? match[1] : null;
}

export const encodeTopicCursor = (topic: string): string => Buffer.from(`t:${topic}`).toString('base64url');

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The topic a topics cursor names, or null when it is not one of ours. */
export function decodeTopicCursor(cursor: string): string | null {
  if (cursor.length > 2048) return null;
  let text: string;
  try {
    text = utf8.decode(Buffer.from(cursor, 'base64url'));
  } catch {
    return null;
  }
  // No control characters: PostgreSQL text cannot hold U+0000, and no topic has one.
  const match = /^t:([^\p{Cc}]{1,512})$/u.exec(text);
  return match?.[1] ?? null;
}
