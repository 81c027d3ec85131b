// When a failed batch is sent again. No answer at all (status 0) may mean the
// server stored the batch and the answer was lost: sending it again is safe,
// since the server drops an event whose key it already has.

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 5_000;

/** Whether a batch that got this status (0: no answer) may be sent again: no answer, 408, 429, 5xx. */
export const isRetryable = (status: number) => status === 0 || status === 408 || status === 429 || status >= 500;

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date), or null when it says nothing usable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  const value = header?.trim() ?? '';
  if (value === '') return null;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date names a day and a month; Date.parse would read '-1' as the year 1 BC.
  if (!/[a-z]/i.test(value)) return null;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

/**
 * The wait before retry number `attempt` (0 for the first retry). 429 and 503
 * wait as their Retry-After says; everything else, and those without one, back
 * off exponentially from 100 ms to 5 s. Jitter (up to 100 ms more after a
 * Retry-After, a random half of an exponential wait) keeps publishers turned
 * away together from coming back together.
 *
 * @example retryDelayMs(429, '2', 0) // 2000 to 2100
 */
export function retryDelayMs(status: number, retryAfter: string | null, attempt: number, random = Math.random): number {
  const asked = status === 429 || status === 503 ? retryAfterMs(retryAfter) : null;
  if (asked !== null) return asked + Math.floor(random() * 100);
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt);
  return Math.floor(ceiling / 2 + random() * (ceiling / 2));
}
