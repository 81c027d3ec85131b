import { eventSchema, type Event } from '../../shared/event/event.schema.ts';
import { FlushError, PublishError, PublisherClosedError } from './errors.ts';
import { resolveOptions, type PublisherOptions } from './options.ts';
import { prepareEvent, type EventInput, type PreparedEvent } from './prepare-event.ts';
import { arrayBytes, gzipIfSmaller, jsonArray, post, type Body } from './request.ts';
import { isRetryable, retryDelayMs } from './retry.ts';

/** Counts since the publisher was created. */
export type PublisherStats = {
  /** Events whose `publish` resolved. */
  published: number;
  /** Events the server accepted (a 2xx). */
  sent: number;
  /** Events of batches given up (reported by `flush` or `close`). */
  refused: number;
  /** Events published and not settled yet: buffered, or in a request not answered yet. */
  unsettled: number;
  requests: number;
  retries: number;
  /** Requests answered 429. */
  backpressure: number;
};

export type Publisher = {
  /** Checks and buffers an event; resolves with it as it will be stored (key filled in) once it is buffered. */
  publish(event: EventInput): Promise<Event>;
  /** Resolves when every event published before it was accepted; rejects with a FlushError for those given up. */
  flush(): Promise<void>;
  /** Flushes, refuses further events and stops the timer. Safe to call twice. */
  close(): Promise<void>;
  stats(): PublisherStats;
};

// Every event gets a sequence number when published; a flush waits until no
// event below its mark is held any more.
type Entry = PreparedEvent & { seq: number };
type Batch = { entries: Entry[] };

/**
 * A publisher for the aggregator's ingest. Events are validated at `publish`,
 * buffered, sent in batches within the server's limits, and retried until
 * the server accepts them (no answer, 408, 429, 5xx) or refuses them for good
 * (another 4xx, reported). Retrying is safe: the server stores a key once.
 *
 * @example
 *   const publisher = createPublisher({ url: 'http://127.0.0.1:8080' });
 *   await publisher.publish({ topic: 'orders', source: 'shop', payload: { total: 12 } });
 *   await publisher.close();
 */
export function createPublisher(options: PublisherOptions): Publisher {
  const o = resolveOptions(options);
  const schema = eventSchema(o.limits);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}) };

  const buffer: Entry[] = [];
  let bufferBytes = 0;
  const inFlight = new Set<Batch>();
  let inFlightEvents = 0;
  // Events published while the buffer was full, in order; each is admitted when room frees.
  const waiting: Array<{ entry: Entry; resolve: (event: Event) => void }> = [];
  let nextSeq = 0;
  // Events below this mark go out as soon as a request slot is free, even in a batch that is not full.
  let dueBefore = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let unreported: Array<{ seq: number; error: PublishError }> = [];
  let closing: Promise<void> | undefined;
  const stats = { published: 0, sent: 0, refused: 0, requests: 0, retries: 0, backpressure: 0 };

  // Resolved (and replaced) whenever a batch settles: what flush and close wait on.
  let wake!: () => void;
  let settled = new Promise<void>((resolve) => (wake = resolve));
  function batchSettled() {
    wake();
    settled = new Promise<void>((resolve) => (wake = resolve));
  }

  const held = () => buffer.length + inFlightEvents;

  function admit(entry: Entry) {
    buffer.push(entry);
    bufferBytes += entry.json.length;
    stats.published++;
  }

  function admitWaiting() {
    while (waiting.length > 0 && held() < o.maxBufferedEvents) {
      const { entry, resolve } = waiting.shift()!;
      admit(entry);
      resolve(entry.event);
    }
  }

  function batchReady(): boolean {
    const head = buffer[0];
    if (head === undefined) return false;
    return head.seq < dueBefore || buffer.length >= o.maxBatchEvents || arrayBytes(buffer.length, bufferBytes) >= o.maxBatchBytes;
  }

  /** The next batch from the head of the buffer: as many events as fit, and at least one. */
  function takeBatch(): Batch {
    let n = 0;
    let bytes = 0;
    while (n < buffer.length && n < o.maxBatchEvents) {
      const size = buffer[n]!.json.length;
      if (n > 0 && arrayBytes(n + 1, bytes + size) > o.maxBatchBytes) break;
      bytes += size;
      n++;
    }
    bufferBytes -= bytes;
    return { entries: buffer.splice(0, n) };
  }

  function pump() {
    while (inFlight.size < o.concurrency && batchReady()) void send(takeBatch());
    if (buffer.length === 0) {
      clearTimeout(timer);
      timer = undefined;
    } else if (timer === undefined && buffer[0]!.seq >= dueBefore) {
      // Not cleared on purpose while events wait: it keeps a Node process alive until they are sent.
      timer = setTimeout(() => {
        timer = undefined;
        dueBefore = Math.max(dueBefore, nextSeq);
        pump();
      }, o.flushIntervalMs);
    }
  }

  function report(error: PublishError) {
    try {
      o.onError?.(error);
    } catch {
      // A handler that throws must not stop the batch's retries: the events would be lost.
    }
  }

  async function bodyOf(batch: Batch): Promise<{ body: Body; headers: Record<string, string> }> {
    const raw = jsonArray(batch.entries.map((e) => e.json));
    const zipped = o.gzip ? await gzipIfSmaller(raw).catch(() => null) : null;
    return zipped ? { body: zipped, headers: { ...headers, 'content-encoding': 'gzip' } } : { body: raw, headers };
  }

  /** Sends a batch until it is accepted, refused for good, or out of retries. Never throws. */
  async function send(batch: Batch) {
    inFlight.add(batch);
    inFlightEvents += batch.entries.length;
    const request = await bodyOf(batch);
    let refusal: PublishError | undefined;
    for (let attempt = 1; ; attempt++) {
      stats.requests++;
      const answer = await post(o.endpoint, request.body, request.headers, o.requestTimeoutMs);
      if (answer.ok) break;
      const { status } = answer.failure;
      if (status === 429) stats.backpressure++;
      const willRetry = isRetryable(status) && attempt <= o.maxRetries;
      const waitMs = willRetry ? retryDelayMs(status, answer.retryAfter, attempt - 1) : undefined;
      const error = new PublishError(answer.failure, batch.entries.map((e) => e.event), attempt, willRetry, waitMs);
      report(error);
      if (!willRetry) {
        refusal = error;
        break;
      }
      stats.retries++;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
    inFlight.delete(batch);
    inFlightEvents -= batch.entries.length;
    if (refusal) {
      stats.refused += batch.entries.length;
      unreported.push({ seq: batch.entries[0]!.seq, error: refusal });
    } else {
      stats.sent += batch.entries.length;
    }
    admitWaiting();
    batchSettled();
    pump();
  }

  function oldestUnsettled(): number {
    let oldest = buffer[0]?.seq ?? waiting[0]?.entry.seq ?? Infinity;
    for (const batch of inFlight) oldest = Math.min(oldest, batch.entries[0]!.seq);
    return oldest;
  }

  /** Sends every event below `mark` now, waits until each is settled, and reports those given up. */
  async function settle(mark: number): Promise<void> {
    dueBefore = Math.max(dueBefore, mark);
    pump();
    while (oldestUnsettled() < mark) await settled;
    const mine = unreported.filter((u) => u.seq < mark);
    if (mine.length === 0) return;
    unreported = unreported.filter((u) => u.seq >= mark);
    throw new FlushError(mine.map((u) => u.error));
  }

  return {
    async publish(input) {
      if (closing) throw new PublisherClosedError();
      const entry = { ...prepareEvent(input, schema), seq: nextSeq++ };
      if (waiting.length === 0 && held() < o.maxBufferedEvents) {
        admit(entry);
        pump();
        return entry.event;
      }
      return new Promise<Event>((resolve) => waiting.push({ entry, resolve }));
    },
    flush: () => settle(nextSeq),
    close() {
      // Events still waiting for room were published before close: they are admitted and sent too.
      closing ??= settle(Infinity);
      return closing;
    },
    stats: () => ({ ...stats, unsettled: held() }),
  };
}
