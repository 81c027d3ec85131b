import type { Config } from '../../shared/config/config.ts';
import type { Db } from '../../shared/db/database.ts';
import { describeDbError, isDataError, isUnreachable } from '../../shared/db/pg-errors.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { Metrics } from '../../shared/metrics/metrics.ts';
import { batchesOf, decodeMessage, encodeMessage, type QueueMessage } from '../../shared/queue/message.ts';
import type { Claim, DeadLetter, EventQueue } from '../../shared/queue/queue.ts';
import { backoffMs, sleep } from '../../shared/runtime/backoff.ts';
import { StoreAbortedError, StoreGaveUpError } from './errors.ts';
import { keepLease } from './lease-keeper.ts';
import type { MessageOutcome, OnCommitted } from '../../shared/queue/outcomes.ts';
import { storeMessages, type StoreOutcome } from './store-messages.ts';

export type BatchResult = {
  claimId: string;
  messages: number;
  events: number;
  unique: number;
  duplicates: number;
  deadLettered: number;
  /** Messages an earlier delivery had already committed. */
  redelivered: number;
  /** False when the lease was lost before the acknowledgement: the messages are someone else's now. */
  acknowledged: boolean;
};

export type BatchProcessorDeps = {
  db: Db;
  queue: EventQueue;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /**
   * Told, after each transaction commits and before the claim is acknowledged, what
   * became of each event of each request in the messages it stored (`batchId` is
   * the request's id, which ingest answered as `batch_id`). Before the acknowledgement, because the
   * outcome is final once committed while the acknowledgement may wait on Redis, and
   * a message redelivered after its commit has no fresh outcome to tell. Parked and
   * redelivered messages produce none. A failure here is logged, never retried.
   */
  onCommitted?: OnCommitted;
};

/** What storing one claim's messages goes by: its counter shard, the ids to park, their attempts, when to give up. */
type StoreContext = { shard: number; park: ReadonlySet<string>; attempts: ReadonlyMap<string, number>; signal: AbortSignal };

/**
 * The messages of a claim as read back: the decodable ones with their attempts (as
 * the claim read them), the refused ones, and what enqueue counted for all.
 */
function decodeClaim(claim: Claim) {
  const good: QueueMessage[] = [];
  const attempts = new Map<string, number>();
  const invalid: DeadLetter[] = [];
  let countedEvents = 0; // what enqueue counted in for these messages, and ack counts out
  claim.messages.forEach((raw, i) => {
    const decoded = decodeMessage(raw);
    if (decoded.ok) {
      good.push(decoded.message);
      attempts.set(decoded.message.id, claim.attempts[i] ?? 0);
      countedEvents += decoded.message.events.length;
    } else {
      invalid.push({ raw, reason: `invalid message: ${decoded.reason}`, attempts: 1, events: decoded.count });
      countedEvents += decoded.count;
    }
  });
  return { good, attempts, invalid, countedEvents };
}

/**
 * Processes one claim: checks each message again, stores the good ones, parks
 * poison in the dead-letter list, then acknowledges. Used by the poller and by the
 * HTTP trigger alike.
 */
export function createBatchProcessor({ db, queue, config, logger, metrics, onCommitted }: BatchProcessorDeps) {
  async function tell(outcomes: MessageOutcome[]) {
    if (!onCommitted || outcomes.length === 0) return;
    try {
      await onCommitted(outcomes);
    } catch (error) {
      logger.error({ err: error }, 'Reporting committed outcomes failed');
    }
  }

  /**
   * Stores the messages, one transaction per group. A group PostgreSQL refuses for
   * its data is split until the refused messages stand alone, and those are dead
   * letters. Other failures retry the group with backoff: an outage without limit
   * (until `signal` aborts), anything else STORE_MAX_RETRIES times. What committed
   * stays committed and counted across retries.
   */
  async function storeAll(messages: QueueMessage[], { shard, park, attempts, signal }: StoreContext) {
    const outcomes: StoreOutcome[] = [];
    const refused: DeadLetter[] = [];
    const groups = [messages];
    let failures = 0;
    let otherFailures = 0;
    while (groups.length > 0) {
      const group = groups.pop() as QueueMessage[];
      try {
        const outcome = await storeMessages(db, group, shard, park);
        outcomes.push(outcome);
        await tell(outcome.committed);
        continue;
      } catch (error) {
        if (isDataError(error)) {
          if (group.length === 1) {
            const [message] = group as [QueueMessage];
            refused.push(deadLetterOf(message, `refused by PostgreSQL: ${describeDbError(error)}`, (attempts.get(message.id) ?? 0) + 1));
          } else {
            const half = Math.ceil(group.length / 2);
            groups.push(group.slice(half), group.slice(0, half)); // the first half is popped first
          }
          continue;
        }
        if (signal.aborted) throw new StoreAbortedError(error);
        if (!isUnreachable(error) && ++otherFailures > config.storeMaxRetries) throw new StoreGaveUpError(error, config.storeMaxRetries);
        const pause = backoffMs(failures++, 100, 5_000);
        logger.warn({ err: describeDbError(error), attempt: failures, retry_in_ms: Math.round(pause) }, 'Storing batch failed, retrying');
        await sleep(pause, signal);
        if (signal.aborted) throw new StoreAbortedError(error);
        groups.push(group);
      }
    }
    return { outcomes, refused };
  }

  return async function processBatch(claim: Claim, shard: number, signal: AbortSignal): Promise<BatchResult> {
    const started = performance.now();
    const lease = keepLease(queue, claim.claimId, config.leaseMs);
    try {
      const { good, attempts, invalid, countedEvents } = decodeClaim(claim);
      const park = new Set(good.filter((m) => (attempts.get(m.id) ?? 0) >= config.maxAttempts).map((m) => m.id));
      const eventsToStore = good.reduce((sum, m) => sum + (park.has(m.id) ? 0 : m.events.length), 0);
      logger.info({ claim_id: claim.claimId, messages: claim.messages.length, events: eventsToStore }, 'Processing event');
      if (logger.isLevelEnabled('debug')) {
        for (const batch of good.flatMap(batchesOf)) {
          for (const e of batch.events) logger.debug({ claim_id: claim.claimId, batch_id: batch.id, topic: e.topic, event_id: e.event_id }, 'Processing event');
        }
      }

      let stored: Awaited<ReturnType<typeof storeAll>> = { outcomes: [], refused: [] };
      try {
        if (good.length > 0) stored = await storeAll(good, { shard, park, attempts, signal });
      } catch (error) {
        if (error instanceof StoreGaveUpError) {
          logger.error({ err: error.cause, claim_id: claim.claimId }, error.message);
          await queue.release(claim.claimId, { countAttempt: true }).catch(() => undefined); // else its lease runs out, counting the same
        }
        throw error;
      }
      const parked = stored.outcomes.flatMap((o) => o.parked).map((m) => {
        const n = attempts.get(m.id) ?? 0;
        return deadLetterOf(m, park.has(m.id) ? `no acknowledgement after ${n} attempts` : 'parked before (no acknowledgement after MAX_ATTEMPTS attempts); parked again', n);
      });
      const dead = [...invalid, ...stored.refused, ...parked];
      const result = summarise(claim, stored.outcomes, dead);
      logCommitted(result, stored.outcomes, good);

      result.acknowledged = await ackUntilAnswered(claim.claimId, { events: countedEvents, deadLetters: dead, messageIds: good.map((m) => m.id) }, signal);
      metrics.batchDuration.observe((performance.now() - started) / 1000);
      metrics.batchSize.observe(result.events);
      return result;
    } finally {
      lease.stop();
    }
  };

  function summarise(claim: Claim, outcomes: StoreOutcome[], dead: DeadLetter[]): BatchResult {
    const sum = (pick: (o: StoreOutcome) => number) => outcomes.reduce((total, o) => total + pick(o), 0);
    return {
      claimId: claim.claimId,
      messages: claim.messages.length,
      events: sum((o) => o.events),
      unique: sum((o) => o.unique),
      duplicates: sum((o) => o.duplicates),
      deadLettered: dead.reduce((total, d) => total + d.events, 0),
      redelivered: sum((o) => o.redelivered),
      acknowledged: false,
    };
  }

  function logCommitted(result: BatchResult, outcomes: StoreOutcome[], messages: QueueMessage[]) {
    const committed = outcomes.flatMap((o) => o.committed);
    const fields = { claim_id: result.claimId, events: result.events, unique: result.unique, duplicates: result.duplicates };
    metrics.eventsUnique.inc(result.unique);
    metrics.eventsDuplicate.inc(result.duplicates);
    metrics.eventsDeadLettered.inc(result.deadLettered);
    if (result.duplicates > 0) {
      logger.info(fields, 'Duplicate dropped');
      if (logger.isLevelEnabled('debug')) {
        const byId = new Map(messages.flatMap(batchesOf).map((b) => [b.id, b.events]));
        for (const { batchId, results } of committed) {
          const events = byId.get(batchId) ?? [];
          results.forEach((r, i) => {
            if (r === 'duplicate') logger.debug({ claim_id: result.claimId, batch_id: batchId, topic: events[i]?.topic, event_id: events[i]?.event_id }, 'Duplicate dropped');
          });
        }
      }
    }
    if (result.redelivered > 0) logger.info({ claim_id: result.claimId, messages: result.redelivered }, 'Redelivered messages were already committed');
    if (result.deadLettered > 0) logger.warn({ claim_id: result.claimId, events: result.deadLettered }, 'Dead-lettered poison messages');
    // batch_ids: the ids ingest answered with, so that `grep <batch_id>` follows a request from Enqueued to Saved.
    logger.info({ ...fields, batch_ids: committed.map((c) => c.batchId) }, 'Saved to DB');
  }

  /**
   * The commit is done; the acknowledgement is retried while Redis is away, until it
   * answers or `signal` aborts (then the lease runs out and the redelivery is
   * recognised as committed). An answer that the lease was lost also takes back the
   * attempt the reaper counted, which is why it is worth waiting for.
   */
  async function ackUntilAnswered(claimId: string, outcome: Parameters<EventQueue['ack']>[1], signal: AbortSignal): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await queue.ack(claimId, outcome);
      } catch (error) {
        if (signal.aborted) return false;
        if (attempt === 0) logger.warn({ err: String(error), claim_id: claimId }, 'Acknowledgement failed, retrying until Redis answers');
        await sleep(backoffMs(attempt, 100, 2_000), signal);
      }
    }
  }
}

function deadLetterOf(message: QueueMessage, reason: string, attempts: number): DeadLetter {
  return { raw: encodeMessage(message), reason, attempts, events: message.events.length };
}

export type ProcessBatch = ReturnType<typeof createBatchProcessor>;
