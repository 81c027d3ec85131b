/**
 * Whether PostgreSQL refused the data itself (SQLSTATE class 22, data
 * exception, 23, integrity violation, or 54, a program limit such as an index
 * row too large): retrying cannot help, the message is poison. Every other failure (connection lost, timeout, deadlock, server
 * restarting) is worth retrying after a pause.
 *
 * @example if (isDataError(error)) deadLetter(message)
 */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}

/** A short description of a database failure for logs and dead letters, without the statement. */
export function describeDbError(error: unknown): string {
  const e = error as { code?: string; message?: string } | null;
  return `${e?.code ? `${e.code} ` : ''}${e?.message ?? String(error)}`.slice(0, 500);
}
