import type { EventQueue } from '../../shared/queue/queue.ts';
import type { PhaseData } from '../data/phase-data.ts';
import type { PublishResult } from '../load/publisher.ts';
import { withCpuSplit, type CpuPart } from '../probes/cpu-split.ts';
import { drained } from './drain.ts';

export type EndToEnd = {
  events: number;
  /** From the first request sent to the moment nothing was pending. */
  seconds: number;
  eventsPerSecond: number;
  /** Ingest's side: how fast the publishers got their 202s while the workers ran. */
  publish: PublishResult & { eventsPerSecond: number };
  /** CPU seconds each part of the machine spent meanwhile. */
  cpu: Record<string, number>;
};

/** Sends every body to `url` once, each accepted in the end. */
export type Publish = (url: string, bodies: readonly string[]) => Promise<PublishResult>;

/** Publishes the phase through ingest and waits until the workers have stored or dropped every event. */
export async function measureEndToEnd(args: {
  url: string;
  phase: PhaseData;
  bodies: readonly string[];
  publish: Publish;
  queue: EventQueue;
  receivedBefore: number;
  cpuParts: readonly CpuPart[];
}): Promise<EndToEnd> {
  const { result, cpu } = await withCpuSplit(args.cpuParts, async () => {
    const started = performance.now();
    const publish = await args.publish(args.url, args.bodies);
    const done = await drained(args.queue, args.receivedBefore + args.phase.plan.total, 120_000 + args.phase.plan.total / 2);
    return { publish, seconds: (done - started) / 1000 };
  });
  const events = args.phase.plan.total;
  return {
    events,
    seconds: result.seconds,
    eventsPerSecond: events / result.seconds,
    publish: { ...result.publish, eventsPerSecond: events / result.publish.seconds },
    cpu,
  };
}
