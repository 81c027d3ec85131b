import type { Config } from '../../shared/config/config.ts';
import type { Db } from '../../shared/db/database.ts';
import { storeMessages, type StoreOutcome } from '../../shared/db/event.repository.ts';
import { describeDbError, isDataError } from '../../shared/db/pg-errors.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { Metrics } from '../../shared/metrics/metrics.ts';
import type { OnCommitted } from '../../shared/queue/outcomes.ts';
import { decodeMessage, encodeMessage, type QueueMessage } from '../../shared/queue/message.ts';
import type { ClaimedBatch, DeadLetter, EventQueue } from '../../shared/queue/queue.ts';
import { backoffMs, sleep } from '../../shared/runtime/backoff.ts';
import { keepLease } from './lease-keeper.ts';

export type BatchResult = {
  batchId: string;
  messages: number;
  events: number;
  unique: number;
  duplicates: number;
  deadLettered: number;
  /** Messages an earlier delivery had already committed. */
  redelivered: number;
  /** False when the lease was lost before the acknowledgement: the batch is someone else's now. */
  acknowledged: boolean;
};

/** PostgreSQL stayed unreachable until the caller gave up; the batch stays leased and will be redelivered. */
export class StoreAbortedError extends Error {
  constructor(cause: unknown) {
    super('gave up storing the batch: PostgreSQL did not answer', { cause });
    this.name = 'StoreAbortedError';
  }
}

export type BatchProcessorDeps = {
  db: Db; queue: EventQueue; config: Config; logger: Logger; metrics: Metrics;
  /** Told, after the commit, what became of each event of each message committed now (not of redeliveries). */
  onCommitted?: OnCommitted;
};

/**
 * Processes one claimed batch: checks each message again, stores the good ones
 * in one transaction, parks poison in the dead-letter list, then acknowledges.
 * Used by the poller and by the HTTP trigger alike.
 */
export function createBatchProcessor({ db, queue, config, logger, metrics, onCommitted }: BatchProcessorDeps) {
  /**
   * Stores messages in one transaction; when PostgreSQL refuses the data, splits
   * the batch to find the refused messages, so that the good ones are stored.
   */
  async function storeIsolatingPoison(
    messages: QueueMessage[], shard: number, dead: DeadLetter[], attempts: Map<string, number>, park: ReadonlySet<string>,
  ): Promise<StoreOutcome[]> {
    try {
      return [await db.transaction().execute((trx) => storeMessages(trx, messages, shard, park))];
    } catch (error) {
      if (!isDataError(error)) throw error;
      if (messages.length === 1) {
        const [message] = messages as [QueueMessage];
        dead.push(deadLetterOf(message, `refused by PostgreSQL: ${describeDbError(error)}`, (attempts.get(message.id) ?? 0) + 1));
        return [];
      }
      const half = Math.ceil(messages.length / 2);
      return [
        ...(await storeIsolatingPoison(messages.slice(0, half), shard, dead, attempts, park)),
        ...(await storeIsolatingPoison(messages.slice(half), shard, dead, attempts, park)),
      ];
    }
  }

  /** Retries transient failures (PostgreSQL down, deadlock, timeout) with jittered backoff until `signal` aborts. */
  async function storeWithRetry(
    messages: QueueMessage[], shard: number, dead: DeadLetter[], attempts: Map<string, number>, park: ReadonlySet<string>, signal: AbortSignal,
  ) {
    for (let attempt = 0; ; attempt++) {
      const deadBefore = dead.length;
      try {
        return await storeIsolatingPoison(messages, shard, dead, attempts, park);
      } catch (error) {
        dead.length = deadBefore;
        if (signal.aborted) throw new StoreAbortedError(error);
        const pause = backoffMs(attempt, 100, 5_000);
        logger.warn({ err: describeDbError(error), attempt: attempt + 1, retry_in_ms: Math.round(pause) }, 'Storing batch failed, retrying');
        await sleep(pause, signal);
        if (signal.aborted) throw new StoreAbortedError(error);
      }
    }
  }

  /** How often each message was claimed without an acknowledgement, and those at the limit, to be parked. */
  async function overAttempted(messages: QueueMessage[]) {
    const counts = await queue.attempts(messages.map((m) => m.id));
    const attempts = new Map(messages.map((m, i) => [m.id, counts[i] ?? 0]));
    return { attempts, over: new Set(messages.filter((m) => (attempts.get(m.id) ?? 0) >= config.maxAttempts).map((m) => m.id)) };
  }

  return async function processBatch(batch: ClaimedBatch, shard: number, signal: AbortSignal): Promise<BatchResult> {
    const started = performance.now();
    const lease = keepLease(queue, batch.batchId, config.leaseMs);
    try {
      const dead: DeadLetter[] = [];
      const good: QueueMessage[] = [];
      let countedEvents = 0; // what enqueue counted in for these messages, and ack counts out
      for (const raw of batch.messages) {
        const decoded = decodeMessage(raw);
        if (decoded.ok) {
          good.push(decoded.message);
          countedEvents += decoded.message.events.length;
        } else {
          dead.push({ raw, reason: `invalid message: ${decoded.reason}`, attempts: 1, events: decoded.count });
          countedEvents += decoded.count;
        }
      }
      const { attempts, over } = await overAttempted(good);
      const eventsToStore = good.reduce((sum, m) => sum + (over.has(m.id) ? 0 : m.events.length), 0);
      logger.info({ batch_id: batch.batchId, messages: batch.messages.length, events: eventsToStore }, 'Processing event');
      if (logger.isLevelEnabled('debug')) {
        for (const m of good) for (const e of m.events) logger.debug({ batch_id: batch.batchId, message_id: m.id, topic: e.topic, event_id: e.event_id }, 'Processing event');
      }

      const outcomes = good.length > 0 ? await storeWithRetry(good, shard, dead, attempts, over, signal) : [];
      for (const m of outcomes.flatMap((o) => o.parked)) {
        dead.push(deadLetterOf(m, `no acknowledgement after ${attempts.get(m.id)} attempts`, attempts.get(m.id) ?? 0));
      }
      const result = summarise(batch, outcomes, dead);
      logCommitted(result, outcomes);
      // TEMPORARY (issue 13 wait=true): the store-path rewrite calls onCommitted itself; replace at merge.
      if (onCommitted) await onCommitted(outcomes.flatMap((o) => o.results()));

      const acknowledged = await ackWithRetry(batch.batchId, {
        events: countedEvents,
        deadLetters: dead,
        messageIds: good.map((m) => m.id),
      }, () => lease.lost);
      result.acknowledged = acknowledged;
      metrics.batchDuration.observe((performance.now() - started) / 1000);
      metrics.batchSize.observe(result.events);
      return result;
    } finally {
      lease.stop();
    }
  };

  function summarise(batch: ClaimedBatch, outcomes: StoreOutcome[], dead: DeadLetter[]): BatchResult {
    const sum = (pick: (o: StoreOutcome) => number) => outcomes.reduce((total, o) => total + pick(o), 0);
    return {
      batchId: batch.batchId,
      messages: batch.messages.length,
      events: sum((o) => o.events),
      unique: sum((o) => o.unique),
      duplicates: sum((o) => o.duplicates),
      deadLettered: dead.reduce((total, d) => total + d.events, 0),
      redelivered: sum((o) => o.redelivered),
      acknowledged: false,
    };
  }

  function logCommitted(result: BatchResult, outcomes: StoreOutcome[]) {
    const fields = { batch_id: result.batchId, events: result.events, unique: result.unique, duplicates: result.duplicates };
    metrics.eventsUnique.inc(result.unique);
    metrics.eventsDuplicate.inc(result.duplicates);
    metrics.eventsDeadLettered.inc(result.deadLettered);
    if (result.duplicates > 0) {
      logger.info(fields, 'Duplicate dropped');
      if (logger.isLevelEnabled('debug')) {
        for (const o of outcomes) for (const key of o.droppedKeys()) logger.debug({ batch_id: result.batchId, ...key }, 'Duplicate dropped');
      }
    }
    if (result.redelivered > 0) logger.info({ batch_id: result.batchId, messages: result.redelivered }, 'Redelivered messages were already committed');
    if (result.deadLettered > 0) logger.warn({ batch_id: result.batchId, events: result.deadLettered }, 'Dead-lettered poison messages');
    logger.info(fields, 'Saved to DB');
  }

  /** The commit is done; the acknowledgement is retried while Redis is away, and dropped once the lease is gone. */
  async function ackWithRetry(batchId: string, outcome: Parameters<EventQueue['ack']>[1], leaseLost: () => boolean): Promise<boolean> {
    for (let attempt = 0; attempt < 20 && !leaseLost(); attempt++) {
      try {
        return await queue.ack(batchId, outcome);
      } catch (error) {
        logger.warn({ err: String(error), batch_id: batchId, attempt: attempt + 1 }, 'Acknowledgement failed, retrying');
        await sleep(backoffMs(attempt, 100, 2_000));
      }
    }
    // Unacknowledged: the lease runs out, the batch is redelivered and recognised as committed.
    return false;
  }
}

function deadLetterOf(message: QueueMessage, reason: string, attempts: number): DeadLetter {
  return { raw: encodeMessage(message), reason, attempts, events: message.events.length };
}

export type ProcessBatch = ReturnType<typeof createBatchProcessor>;
