import type { EventQueue } from '../../shared/queue/queue.ts';
import type { PhaseData } from '../data/phase-data.ts';
import { publishAll, type PublishResult } from '../load/publisher.ts';
import { replayWithWrk } from '../load/wrk.ts';
import { withCpuSplit, type CpuPart } from '../probes/cpu-split.ts';
import { drained } from './drain.ts';
import { allAccepted } from './ingest-phases.ts';

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

/** wrk (C, from Debian's packages) or Node (autocannon for rates, undici end to end): who sends the requests. */
export type PublisherName = 'wrk' | 'node';

/**
 * The end-to-end runs measure throughput, and wrk does not retry a 429: the functions under them
 * run with this environment, so that backpressure never answers one.
 */
export const NO_BACKPRESSURE = { MAX_QUEUE_LENGTH: '100000000' };

/**
 * The end-to-end publisher: wrk replaying the bodies over `connections` (its C threads keep the
 * load generator's CPU off the two cores the system needs), or undici in the bench process,
 * retrying refusals as a polite client does.
 */
export function endToEndPublisher(publisher: PublisherName, connections: number): Publish {
  if (publisher === 'node') return (url, bodies) => publishAll(url, bodies, connections);
  return async (url, bodies) => {
    const result = await replayWithWrk(url, bodies, { connections });
    allAccepted('end to end', result);
    return { requests: result.requests, refused: 0, seconds: result.seconds, latency: result.latency };
  };
}

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
