/**
 * A connection URL fit for a log line: its password replaced by `***`, the rest (user, host, port,
 * database) kept, since that is what an operator checks.
 *
 * @example redactUrl('postgres://app:s3cret@db:5432/events') // 'postgres://app:***@db:5432/events'
 */
export function redactUrl(url: string): string {
  if (!URL.canParse(url)) return '(not a URL)';
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}
