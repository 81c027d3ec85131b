/**
 * Full-jitter exponential backoff: a random pause up to base·2^attempt, capped,
 * so that workers that failed together do not retry together.
 *
 * @example await sleep(backoffMs(attempt, 100, 5_000), signal)
 */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
}

/**
 * Waits for `work` at most `ms`: true when it settled (either way) in time. The
 * timer ends with the wait, so it never keeps a stopping process alive.
 *
 * @example if (!(await settledWithin(loopsDone, 5_000))) handBackBatches()
 */
export async function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  const inTime = await Promise.race([work.then(() => true, () => true), sleep(ms, timer.signal).then(() => false)]);
  timer.abort();
  return inTime;
}

/** Waits `ms`, or less when the signal aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
