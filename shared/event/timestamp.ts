// RFC 3339 `date-time` (section 5.6): a full date, a full time and a mandatory zone.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

const daysIn = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/**
 * Why a string is not an RFC 3339 instant we can store, or null when it is one.
 * The regular expression checks the shape; the numbers are checked here, so that
 * `2026-02-31T00:00:00Z` is refused rather than rolled over into March.
 *
 * @example timestampProblem('2026-11-25T08:00:00Z') // null
 */
export function timestampProblem(value: string): string | null {
  const m = RFC3339.exec(value);
  if (!m) return 'must be an RFC 3339 date-time with a zone offset or Z, like 2026-11-25T08:00:00Z';
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (year < 1) return 'year must be from 0001 to 9999';
  if (month < 1 || month > 12) return 'month must be 01 to 12';
  if (day < 1 || day > daysIn(year, month)) return `day ${m[3]} does not exist in ${m[1]}-${m[2]}`;
  if (hour > 23 || minute > 59) return 'time of day is out of range';
  // PostgreSQL would silently roll a leap second into the next minute: not the instant named.
  if (second > 59) return 'leap seconds (:60) cannot be stored';
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return 'zone offset is out of range';
  return null;
}
