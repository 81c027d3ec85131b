import { setTimeout as sleep } from 'node:timers/promises';
import { eventsBetween, type Plan } from './events.js';
import { retryDelayMs } from './retry-policy.js';

export type SendProgress = { sentEvents: number; requests: number; retries: number; backpressure: number };

/** A batch the service refused for good (or after every retry): the run stops. */
export class PublishError extends Error {
  override readonly name = 'PublishError';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/**
 * Sends every event of `plan` once, `batch` events a request, with up to
 * `concurrency` requests in flight. A 429 or 503 (or no answer) is waited out as
 * Retry-After says and the same batch is sent again, up to `maxRetries` times;
 * any other refusal stops the run with a PublishError.
 *
 * @example await sendPlan(plan, { url, batch: 100, concurrency: 16, maxRetries: 30, headers: {} })
 */
export async function sendPlan(
  plan: Plan,
  options: { url: string; batch: number; concurrency: number; maxRetries: number; headers: Record<string, string>; onProgress?: (p: SendProgress) => void },
): Promise<SendProgress> {
  const progress: SendProgress = { sentEvents: 0, requests: 0, retries: 0, backpressure: 0 };
  const batches = Math.ceil(plan.total / options.batch);
  let next = 0;
  let failure: PublishError | undefined;

  async function sendBatch(index: number) {
    const events = eventsBetween(plan, index * options.batch, (index + 1) * options.batch);
    const body = JSON.stringify(events);
    for (let attempt = 0; ; attempt++) {
      let status = 0;
      let retryAfter: string | null = null;
      let detail = '';
      try {
        progress.requests++;
        const response = await fetch(options.url, { method: 'POST', headers: { 'content-type': 'application/json', ...options.headers }, body });
        status = response.status;
        retryAfter = response.headers.get('retry-after');
        detail = await response.text();
      } catch (error) {
        detail = String((error as Error).cause ?? error);
      }
      if (status === 202) {
        progress.sentEvents += events.length;
        options.onProgress?.(progress);
        return;
      }
      if (status === 429) progress.backpressure++;
      const wait = attempt < options.maxRetries ? retryDelayMs(status, retryAfter, attempt) : null;
      if (wait === null) {
        const answer = status === 0 ? 'no answer' : `${status}`;
        throw new PublishError(`batch ${index} (${events.length} events) refused after ${attempt + 1} attempts: ${answer} ${detail.slice(0, 300)}`, status);
      }
      progress.retries++;
      options.onProgress?.(progress);
      await sleep(wait);
    }
  }

  async function worker() {
    while (!failure && next < batches) {
      const index = next++;
      try {
        await sendBatch(index);
      } catch (error) {
        failure ??= error as PublishError;
      }
    }
  }

  await Promise.all(Array.from({ length: Math.min(options.concurrency, batches) }, worker));
  if (failure) throw failure;
  return progress;
}
