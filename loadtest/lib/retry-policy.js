// When a publisher sends a batch again: shared by the k6 scripts and the Node
// publisher. Plain ES module with no imports: k6 (goja) and Node both load it.

// 0 is "no answer at all" (connection refused or reset, timeout): k6 reports it so.
const RETRYABLE = new Set([0, 429, 502, 503, 504]);

/**
 * Milliseconds to wait before sending a batch again, or null when its answer is
 * final (202, or an error that a retry cannot mend, such as 400 or 413).
 * A Retry-After header, in seconds or as an HTTP date, is obeyed as given;
 * without one the wait doubles from 250 ms to at most 5 s. Up to 100 ms of
 * jitter keeps many publishers from coming back at the same instant.
 */
export function retryDelayMs(status, retryAfter, attempt, now = Date.now()) {
  if (!RETRYABLE.has(status)) return null;
  let ms = Math.min(250 * 2 ** attempt, 5000);
  if (retryAfter !== undefined && retryAfter !== null && String(retryAfter).trim() !== '') {
    const seconds = Number(retryAfter);
    const at = Date.parse(String(retryAfter));
    if (Number.isFinite(seconds) && seconds >= 0) ms = seconds * 1000;
    else if (Number.isFinite(at)) ms = Math.max(0, at - now);
  }
  return ms + Math.floor(Math.random() * 100);
}
