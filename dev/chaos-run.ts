import { Redis } from 'ioredis';
import { eventsBetween, keyAt, planRun } from '../loadtest/lib/events.js';
import { EventQueue } from '../shared/queue/queue.ts';
import { waitUntilDrained, type Snapshot } from './invariant.ts';
import { startPrivateRedis } from './private-redis.ts';
import { freePort, startFunction, type FunctionProcess } from './processes.ts';
import { createTestDatabase } from './services.ts';

export type ChaosOptions = {
  seconds: number;
  publishers: number;
  batch: number;
  processes: number;
  /** Mean pause between two kills. */
  killEveryMs: number;
  seed: number;
};

export type ChaosReport = {
  seconds: number;
  requests: number;
  eventsSent: number;
  eventsAccepted: number;
  workerKills: number;
  ingestKills: number;
  redisRestarts: number;
  lost: number;
  doubleCounted: number;
  invariantOff: number;
  final: Snapshot;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Publishes a stream of events with duplicates for a set time while killing
 * (SIGKILL) and restarting process workers, ingest and Redis at random; then
 * drains and counts what was lost (a key answered 202 but never stored) and what
 * was counted twice (counters off the invariant or off the stored rows).
 */
export async function runChaos(options: ChaosOptions, log: (line: string) => void): Promise<ChaosReport> {
  let random = options.seed;
  const rand = () => ((random = (random * 1103515245 + 12345) % 2147483648) / 2147483648);
  const [redisServer, database] = await Promise.all([startPrivateRedis(), createTestDatabase('chaos')]);
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  const queue = new EventQueue(redis, 'chaos');
  const env = { REDIS_URL: redisServer.url, DATABASE_URL: database.url, QUEUE_PREFIX: 'chaos', WORKERS: '2', QUEUE_LEASE_MS: '2000', LOG_LEVEL: 'warn', SHUTDOWN_TIMEOUT_MS: '3000' };
  const ingestPort = await freePort();
  const startIngest = () => startFunction('functions/ingest/server.ts', env, { port: ingestPort });
  const startWorker = () => startFunction('functions/process/server.ts', env);
  // Restarts are not awaited by the chaos loop: the next kill may come while a process is still starting.
  let ingest: Promise<FunctionProcess> = startIngest();
  const workers: Array<Promise<FunctionProcess>> = Array.from({ length: options.processes }, startWorker);
  await Promise.all([ingest, ...workers]);
  const report = { requests: 0, eventsSent: 0, eventsAccepted: 0, workerKills: 0, ingestKills: 0, redisRestarts: 0 };

  // The stream is rounds of 20,000 events, 30% of each round repeating a key of that round.
  const ROUND = 20_000;
  const rounds = new Map<number, ReturnType<typeof planRun>>();
  const roundOf = (position: number) => {
    const r = Math.floor(position / ROUND);
    if (!rounds.has(r)) rounds.set(r, planRun({ total: ROUND, duplicateRatio: 0.3, seed: options.seed + r, runId: `chaos${options.seed}r${r}` }));
    return rounds.get(r)!;
  };
  const keyOf = (position: number) => { const plan = roundOf(position); return `${plan.runId}-${keyAt(plan, position % ROUND)}`; };
  const batchAt = (from: number) => eventsBetween(roundOf(from), from % ROUND, (from % ROUND) + options.batch);
  const acceptedUpTo: Array<[number, number]> = [];
  let next = 0;
  const deadline = Date.now() + options.seconds * 1000;

  let chaosOver = false;
  async function publisher() {
    while (!chaosOver) {
      const from = next;
      next += options.batch;
      const events = batchAt(from); // shorter at the end of a round
      const body = JSON.stringify(events);
      // An at-least-once publisher: the same batch again until it gets its 202.
      for (let attempt = 0; ; attempt++) {
        report.requests++;
        report.eventsSent += events.length;
        const status = await fetch(`http://127.0.0.1:${ingestPort}/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
          .then((response) => response.status, () => 0);
        if (status === 202) break;
        await sleep(Math.min(1_000, 20 * 2 ** attempt) * rand());
      }
      report.eventsAccepted += events.length;
      acceptedUpTo.push([from, from + events.length]);
    }
  }

  async function chaos() {
    // The first three blows are one of each kind, so even a short run tries every failure.
    const opening = [0.1, 0.8, 0.9];
    try {
      await blows(opening);
    } finally {
      chaosOver = true;
    }
  }

  async function blows(opening: number[]) {
    while (opening.length > 0 || Date.now() < deadline - 1_000) {
      await sleep(options.killEveryMs * (0.5 + rand()));
      const roll = opening.shift() ?? rand();
      if (roll < 0.7) {
        const index = Math.floor(rand() * workers.length);
        const victim = await workers[index]!;
        await victim.kill();
        report.workerKills++;
        workers[index] = startWorker();
      } else if (roll < 0.85) {
        await (await ingest).kill();
        report.ingestKills++;
        ingest = startIngest();
      } else {
        await redisServer.kill();
        await sleep(200 + 800 * rand());
        await redisServer.start();
        report.redisRestarts++;
      }
    }
  }

  const progress = setInterval(() => {
    log(`chaos: ${Math.max(0, Math.round((deadline - Date.now()) / 1000))} s left, ${report.eventsAccepted} events accepted, ` +
      `${report.workerKills} worker kills, ${report.ingestKills} ingest kills, ${report.redisRestarts} Redis restarts`);
  }, 5_000);
  try {
    await Promise.all([chaos(), ...Array.from({ length: options.publishers }, publisher)]);
    clearInterval(progress);
    await Promise.all([ingest, ...workers]); // every process up again to drain
    log('chaos: publishing done, draining');
    const final = await waitUntilDrained(queue, database.db, { timeoutMs: 300_000, intervalMs: 250 });

    // Lost: a key whose event got a 202 but is not stored.
    const stored = new Set((await database.db.selectFrom('events').select(['event_id']).execute()).map((r) => r.event_id));
    let lost = 0;
    for (const [from, to] of acceptedUpTo) {
      for (let p = from; p < to; p++) if (!stored.has(keyOf(p))) lost++;
    }
    return {
      seconds: options.seconds,
      ...report,
      lost,
      doubleCounted: final.unique - final.rows,
      invariantOff: final.received - (final.unique + final.duplicates + final.pending + final.dead),
      final,
    };
  } finally {
    clearInterval(progress);
    await Promise.all([ingest, ...workers].map(async (p) => (await p.catch(() => null))?.kill()));
    redis.disconnect();
    await redisServer.destroy();
    await database.drop();
  }
}
