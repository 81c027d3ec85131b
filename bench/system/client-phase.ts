import type { Redis } from 'ioredis';
import { createPublisher } from '../../client/src/index.ts';
import { eventAt } from '../../loadtest/lib/events.js';
import type { Db } from '../../shared/db/database.ts';
import { EventQueue } from '../../shared/queue/queue.ts';
import { expectedAfter, type PhaseData } from '../data/phase-data.ts';
import { checkCounters, type CounterCheck } from './counter-check.ts';
import { drained } from './drain.ts';
import { npmStartNodeFlags, startMember, stopMember, type MemberReport } from './stack.ts';

export type ClientResult = {
  events: number;
  /** First publish to `close` resolved: every event accepted (202). */
  acceptedSeconds: number;
  acceptedEventsPerSecond: number;
  /** First publish to the last event stored. */
  storedSeconds: number;
  storedEventsPerSecond: number;
  requests: number;
  retries: number;
  backpressure: number;
  runner: MemberReport;
  counters: CounterCheck;
};

/**
 * What one publisher client, with its defaults, pushes into `npm start` (the
 * local runner: the three functions and the pollers in one process) on a
 * database and key prefix of its own; then the counters must be exact.
 */
export async function measureClient(args: {
  env: Record<string, string>;
  db: Db;
  redis: Redis;
  prefix: string;
  phase: PhaseData;
  entry: string;
  profileDir: string | null;
  log: (line: string) => void;
}): Promise<ClientResult> {
  const { phase, log } = args;
  const runner = await startMember('runner', args.entry, { ...args.env, NODE_OPTIONS: npmStartNodeFlags() }, args.profileDir);
  try {
    const publisher = createPublisher({ url: runner.url });
    const started = performance.now();
    for (let position = 0; position < phase.plan.total; position++) await publisher.publish(eventAt(phase.plan, position));
    await publisher.close();
    const acceptedSeconds = (performance.now() - started) / 1000;
    const storedSeconds = ((await drained(new EventQueue(args.redis, args.prefix), phase.plan.total, 120_000 + phase.plan.total)) - started) / 1000;
    const events = phase.plan.total;
    const { requests, retries, backpressure } = publisher.stats();
    log(`one client into npm start: ${events} events accepted in ${acceptedSeconds.toFixed(2)} s = ${Math.round(events / acceptedSeconds)} events/s, ` +
      `stored in ${storedSeconds.toFixed(2)} s (${requests} requests, ${backpressure} answered 429)`);
    const counters = await checkCounters(runner.url, args.db, expectedAfter([phase]), [phase]);
    return {
      events, acceptedSeconds, acceptedEventsPerSecond: events / acceptedSeconds, storedSeconds, storedEventsPerSecond: events / storedSeconds,
      requests, retries, backpressure, runner: await stopMember(runner), counters,
    };
  } finally {
    await runner.process.kill();
  }
}
