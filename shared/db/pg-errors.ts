/**
 * Whether PostgreSQL refused the data itself (SQLSTATE class 22, data
 * exception, 23, integrity violation, or 54, a program limit such as an index
 * row too large): retrying cannot help, the message is poison.
 *
 * @example if (isDataError(error)) deadLetter(message)
 */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}

// What node-postgres says, without a code, when the connection or the pool fails.
const CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|connection error|Client was closed|Connection refused/i;

/**
 * Whether PostgreSQL could not be reached or went away (refused or lost
 * connections, SQLSTATE class 08, a server shutting down or starting, too many
 * connections): waiting helps, however long it takes, and the failure says
 * nothing about the batch. Anything else that is not a data error (a statement
 * timeout, a deadlock, a bug) is retried only a few times.
 *
 * @example if (isUnreachable(error)) await sleep(backoff) // and retry without limit
 */
export function isUnreachable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^(08|57P0[123]|53300)/.test(code) || /^(ECONN|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)/.test(code)) return true;
  return code === '' && typeof e?.message === 'string' && CONNECTION_MESSAGES.test(e.message);
}

/** A short description of a database failure for logs and dead letters, without the statement. */
export function describeDbError(error: unknown): string {
  const e = error as { code?: string; message?: string } | null;
  return `${e?.code ? `${e.code} ` : ''}${e?.message ?? String(error)}`.slice(0, 500);
}
