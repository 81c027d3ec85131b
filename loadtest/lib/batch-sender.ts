import { createPublisher, FlushError, PublishError } from '../../client/src/index.ts';
import { eventAt, type Plan } from './events.js';

export type SendProgress = { sentEvents: number; requests: number; retries: number; backpressure: number };

/** A batch the service refused for good (or after every retry): the run stops. */
export { PublishError };

/**
 * The publisher client's base URL for an ingest URL: it posts to `<base>/publish`,
 * so `/publish` comes off, and `/function/ingest` stays (its `/publish` alias
 * reaches ingest through a gateway and the local runner alike).
 */
const baseOf = (url: string) => url.replace(/\/publish\/?$/, '');

/**
 * Sends every event of `plan` once through the publisher client, `batch` events
 * a request, with up to `concurrency` requests in flight. The client waits out
 * 429 and 503 as Retry-After says, and no answer or another 5xx with a growing
 * wait, up to `maxRetries` times a batch; any other refusal stops the run with
 * a PublishError.
 *
 * @example await sendPlan(plan, { url, batch: 100, concurrency: 16, maxRetries: 30 })
 */
export async function sendPlan(
  plan: Plan,
  options: { url: string; batch: number; concurrency: number; maxRetries: number; apiKey?: string; onProgress?: (p: SendProgress) => void },
): Promise<SendProgress> {
  let refused: PublishError | undefined;
  const publisher = createPublisher({
    url: baseOf(options.url),
    maxBatchEvents: options.batch,
    concurrency: options.concurrency,
    maxRetries: options.maxRetries,
    // Room for twice what the requests in flight hold: a full batch is ready whenever a request ends.
    maxBufferedEvents: options.batch * options.concurrency * 2,
    // A load run measures the service, not compression: bodies go as plain JSON, as k6 sends them.
    gzip: false,
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    onError: (error) => {
      if (!error.willRetry) refused ??= error;
    },
  });
  const progress = (): SendProgress => {
    const s = publisher.stats();
    return { sentEvents: s.sent, requests: s.requests, retries: s.retries, backpressure: s.backpressure };
  };

  for (let position = 0; position < plan.total && !refused; position++) {
    await publisher.publish(eventAt(plan, position));
    if (position % options.batch === 0) options.onProgress?.(progress());
  }
  try {
    await publisher.close();
  } catch (error) {
    if (!(error instanceof FlushError)) throw error;
    refused ??= error.errors[0];
  }
  if (refused) throw refused;
  return progress();
}
