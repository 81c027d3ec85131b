// RFC 3339 `date-time` (section 5.6): a full date, a full time and a mandatory zone.
// Every field has a fixed place (year at 0, month at 5, ... seconds at 17); only the
// fraction between the seconds and the zone varies in length, and the zone is at the end.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

// The instants the API can give back as RFC 3339: GET /events prints the stored
// instant in UTC with four year digits, so 0001-01-01T00:30:00+01:00 (a moment of
// 1 BC) or 9999-12-31T23:30:00-01:00 (in year 10000) would come back mangled.
const FIRST_INSTANT_MS = Date.parse('0001-01-01T00:00:00Z');
const LAST_SECOND_MS = Date.parse('9999-12-31T23:59:59Z');

// The Gregorian calendar repeats every 400 years, which hold 146,097 days.
const FOUR_CENTURIES_MS = 146_097 * 86_400_000;

const daysIn = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;

// Date.UTC maps years 0-99 to 1900-1999: such a year is counted four centuries later, then moved back.
const utcMs = (year: number, month: number, day: number, hour: number, minute: number, second: number): number =>
  year < 100
    ? Date.UTC(year + 400, month - 1, day, hour, minute, second) - FOUR_CENTURIES_MS
    : Date.UTC(year, month - 1, day, hour, minute, second);

/** The number the `count` digits of `value` at `at` spell. */
function digits(value: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) n = n * 10 + value.charCodeAt(i) - 48;
  return n;
}

/**
 * Why a string is not an RFC 3339 instant we can store, or null when it is one.
 * The regular expression checks the shape; the numbers are checked here, so that
 * `2026-02-31T00:00:00Z` is refused rather than rolled over into March.
 * PostgreSQL keeps microseconds: further digits are rounded, not refused.
 * It runs for every event of every request, so it reads the digits in place rather
 * than through captured substrings or a Date object.
 *
 * @example timestampProblem('2026-11-25T08:00:00Z') // null
 */
export function timestampProblem(value: string): string | null {
  if (!RFC3339.test(value)) return 'must be an RFC 3339 date-time with a zone offset or Z, like 2026-11-25T08:00:00Z';
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  if (year < 1) return 'year must be from 0001 to 9999';
  if (month < 1 || month > 12) return 'month must be 01 to 12';
  if (day < 1 || day > daysIn(year, month)) return `day ${value.slice(8, 10)} does not exist in ${value.slice(0, 7)}`;
  if (hour > 23 || minute > 59) return 'time of day is out of range';
  // PostgreSQL would silently roll a leap second into the next minute: not the instant named.
  if (second > 59) return 'leap seconds (:60) cannot be stored';
  // The zone: Z, or ±hh:mm as the last six characters.
  const zoned = value.length - 6;
  const sign = value[zoned];
  const offset = sign === '+' || sign === '-';
  const offsetHours = offset ? digits(value, zoned + 1, 2) : 0;
  const offsetMinutes = offset ? digits(value, zoned + 4, 2) : 0;
  // RFC 3339 allows offsets to ±23:59, PostgreSQL only to ±15:59 (real zones span -12:00 to +14:00).
  if (offsetHours > 15 || offsetMinutes > 59) return 'zone offset must be within ±15:59';
  const offsetMs = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const instant = utcMs(year, month, day, hour, minute, second) - offsetMs;
  // PostgreSQL rounds the fraction to the nearest microsecond (rint of it times 10^6): one that rounds up to
  // the next second can only take the last second out of range.
  const roundsUp = instant === LAST_SECOND_MS && value[19] === '.' && Number(value.slice(19, offset ? zoned : value.length - 1)) * 1e6 >= 999_999.5;
  if (instant < FIRST_INSTANT_MS || instant > LAST_SECOND_MS || roundsUp) {
    return 'must name an instant from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z';
  }
  return null;
}
