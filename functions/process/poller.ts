import { randomInt } from 'node:crypto';
import type { Config } from '../../shared/config/config.ts';
import type { Db } from '../../shared/db/database.ts';
import { pruneProcessedMessages } from '../../shared/db/message.repository.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { EventQueue } from '../../shared/queue/queue.ts';
import { backoffMs, settledWithin, sleep } from '../../shared/runtime/backoff.ts';
import type { ProcessBatch } from './batch-processor.ts';
import { StoreAbortedError, StoreGaveUpError } from './errors.ts';

export type PollerDeps = { queue: EventQueue; processBatch: ProcessBatch; config: Config; logger: Logger; db: Db };

/** How long the ids of committed messages are kept: redeliveries come within leases and outages, so days are a wide margin. */
const PROCESSED_ID_RETENTION_MS = 7 * 24 * 3_600_000;
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Runs `concurrency` claim loops against the queue, plus a reaper that returns
 * expired leases. Each loop claims a batch, processes it, and claims the next at
 * once while the queue has more; a loop that found the queue empty, or emptied it,
 * waits POLL_INTERVAL_MS first.
 *
 * @example const poller = startPoller(deps, config.workers); await poller.stop()
 */
export function startPoller({ queue, processBatch, config, logger, db }: PollerDeps, concurrency: number) {
  const controller = new AbortController();
  const { signal } = controller;
  // Each loop writes its own counter shard, so loops of one process never wait on each other's rows.
  const shardBase = randomInt(config.counterShards);

  const reaper = setInterval(() => {
    queue.reapExpired().then(
      (returned) => { if (returned > 0) logger.warn({ messages: returned }, 'Returned expired leases to the queue'); },
      () => undefined, // Redis away: the loops report it.
    );
  }, Math.min(1_000, Math.max(50, Math.floor(config.leaseMs / 2))));

  const pruner = setInterval(() => {
    pruneProcessedMessages(db, PROCESSED_ID_RETENTION_MS).then(
      (pruned) => { if (pruned > 0) logger.info({ pruned }, 'Forgot old processed message ids'); },
      () => undefined, // PostgreSQL away: the next round prunes.
    );
  }, PRUNE_EVERY_MS);
  pruner.unref();

  // Claims being worked on, so that a stop that runs out of time can hand them back.
  const inFlight = new Set<string>();

  async function loop(index: number) {
    const shard = (shardBase + index) % config.counterShards;
    let failures = 0;
    while (!signal.aborted) {
      let claim;
      try {
        claim = await queue.claim({ maxMessages: config.batchMaxMessages, maxEvents: config.batchMaxEvents, leaseMs: config.leaseMs });
        if (failures > 0) logger.info({ worker: index }, 'Redis is back, claiming again');
        failures = 0;
      } catch (error) {
        if (failures++ === 0) logger.warn({ worker: index, err: String(error) }, 'Claim failed, waiting for Redis');
        await sleep(backoffMs(failures, 100, 2_000), signal);
        continue;
      }
      if (!claim) {
        await sleep(config.pollIntervalMs, signal);
        continue;
      }
      inFlight.add(claim.claimId);
      let stored = false;
      try {
        await processBatch(claim, shard, signal);
        stored = true;
      } catch (error) {
        if (error instanceof StoreAbortedError) {
          // Stopping while PostgreSQL is away: hand the claim back now rather than at lease expiry.
          await queue.release(claim.claimId).catch(() => undefined);
          logger.warn({ claim_id: claim.claimId }, 'Returned unfinished batch to the queue');
        } else if (!(error instanceof StoreGaveUpError)) { // that one was handed back, counting an attempt
          logger.error({ err: error, claim_id: claim.claimId }, 'Batch failed; returning it to the queue');
          // An unexpected failure counts an attempt, so that one that recurs ends parked instead of looping.
          await queue.release(claim.claimId, { countAttempt: true }).catch(() => undefined); // else its lease runs out
        }
        await sleep(backoffMs(1, 100, 1_000), signal);
      } finally {
        inFlight.delete(claim.claimId);
      }
      // A claim that emptied the queue means the loops keep up with ingest. Claiming again at
      // once would store what trickles in a few events a claim, each claim paying its script
      // calls, statement and commit; waiting as after an empty poll lets the next claim gather
      // them. Under a backlog claims come back full and loops never wait, so the top rate is
      // unchanged, and no event waits longer than it would for a poll of an empty queue.
      if (stored && claim.drained) await sleep(config.pollIntervalMs, signal);
    }
  }

  const loops = Array.from({ length: concurrency }, (_, i) => loop(i));
  logger.info({ workers: concurrency }, 'Poller started');

  let stopped: Promise<void> | undefined;
  return {
    /**
     * Stops claiming and lets in-flight batches finish. Batches still unfinished
     * after `graceMs` (a statement stuck on a lock, say) are handed back to the
     * queue, so another worker takes them at once; if their transaction still
     * commits, the redelivery is recognised as committed.
     */
    stop(graceMs = config.shutdownTimeoutMs / 2): Promise<void> {
      stopped ??= (async () => {
        controller.abort();
        clearInterval(reaper);
        clearInterval(pruner);
        if (!(await settledWithin(Promise.allSettled(loops), graceMs))) {
          await Promise.allSettled([...inFlight].map((claimId) => queue.release(claimId)));
          logger.warn({ claims: inFlight.size }, 'Returned unfinished batches to the queue');
        }
        logger.info('Poller stopped');
      })();
      return stopped;
    },
  };
}

export type Poller = ReturnType<typeof startPoller>;
