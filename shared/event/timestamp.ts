// RFC 3339 `date-time` (section 5.6): a full date, a full time and a mandatory zone.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

// The instants the API can give back as RFC 3339: GET /events prints the stored
// instant in UTC with four year digits, so 0001-01-01T00:30:00+01:00 (a moment of
// 1 BC) or 9999-12-31T23:30:00-01:00 (in year 10000) would come back mangled.
const FIRST_INSTANT_MS = Date.parse('0001-01-01T00:00:00Z');
const LAST_SECOND_MS = Date.parse('9999-12-31T23:59:59Z');

const daysIn = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

// Date.UTC maps years 0-99 to 1900-1999, so the year is set on its own.
function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

/**
 * Why a string is not an RFC 3339 instant we can store, or null when it is one.
 * The regular expression checks the shape; the numbers are checked here, so that
 * `2026-02-31T00:00:00Z` is refused rather than rolled over into March.
 * PostgreSQL keeps microseconds: further digits are rounded, not refused.
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
  const offsetHours = Number(m[10] ?? 0);
  const offsetMinutes = Number(m[11] ?? 0);
  // RFC 3339 allows offsets to ±23:59, PostgreSQL only to ±15:59 (real zones span -12:00 to +14:00).
  if (offsetHours > 15 || offsetMinutes > 59) return 'zone offset must be within ±15:59';
  const offsetMs = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const instant = utcMs(year, month, day, hour, minute, second) - offsetMs;
  // A fraction past .999999 may round up to the next second once stored.
  const roundsUp = Number(m[7] ?? 0) > 0.999999 ? 1000 : 0;
  if (instant < FIRST_INSTANT_MS || instant + roundsUp > LAST_SECOND_MS) {
    return 'must name an instant from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z';
  }
  return null;
}
