import { bodiesOf, type PhaseData } from '../data/phase-data.ts';
import { postEach, type LoadResult } from '../load/http-load.ts';
import { sendPaced } from '../load/paced-sender.ts';
import { withServerCpu, type ServerCosted } from '../probes/cpu-split.ts';

export type IngestResults = {
  /** One event a request, as fast as `connections` closed-loop clients go. */
  single: ServerCosted<LoadResult>;
  /** One event a request at half of `single`'s accepted rate, paced: the latency a publisher sees with headroom. */
  halfRate: ServerCosted<LoadResult> & { targetRate: number };
  /** `batch` events a request, as fast as the clients go. */
  batch: ServerCosted<LoadResult> & { eventsPerSecond: number };
};

/** Every request of a phase must be accepted, or the counters cannot be checked exactly. */
export function allAccepted(what: string, result: LoadResult): void {
  if (result.accepted !== result.requests) {
    throw new Error(`${what}: ${result.accepted} of ${result.requests} requests accepted (statuses ${JSON.stringify(result.statuses)}, ${result.lost} unanswered)`);
  }
}

/** POSTs every body once, as fast as `connections` closed-loop clients go, with the server's CPU a request; all must be accepted. */
export async function acceptedPosts(what: string, url: string, pid: number, bodies: readonly string[], connections: number): Promise<ServerCosted<LoadResult>> {
  const result = await withServerCpu(pid, () => postEach(url, bodies, { connections }));
  allAccepted(what, result);
  return result;
}

/**
 * The three ingest measurements, after a warm-up, against ingest alone (no worker runs yet, so
 * nothing else competes for the CPU): the events stay queued for the drain.
 * `halfRatePhase` builds the paced phase once the top rate is known.
 */
export async function measureIngest(
  url: string,
  pid: number,
  phases: {
    warm: PhaseData; warmBodies: readonly string[];
    single: PhaseData; singleBodies: readonly string[];
    batch: PhaseData; batchBodies: readonly string[];
    halfRatePhase: (rate: number) => PhaseData;
  },
  connections: number,
  log: (line: string) => void,
): Promise<{ results: IngestResults; sent: PhaseData[] }> {
  // A cold process runs its first requests unoptimised: warm it up, unmeasured (its events are checked like the rest).
  allAccepted('ingest warm-up', await postEach(url, phases.warmBodies, { connections }));
  const single = await acceptedPosts('ingest, 1 event a request', url, pid, phases.singleBodies, connections);
  log(`ingest, 1 event a request: ${Math.round(single.requestsPerSecond)} requests/s, p99 ${single.latency.p99} ms`);

  const targetRate = Math.max(1, Math.floor(single.requestsPerSecond / 2));
  const half = phases.halfRatePhase(targetRate);
  const halfRate = { ...(await withServerCpu(pid, () => sendPaced(url, bodiesOf(half), targetRate, connections))), targetRate };
  allAccepted('ingest at half rate', halfRate);
  log(`ingest at half rate (${targetRate}/s): p50 ${halfRate.latency.p50} ms, p99 ${halfRate.latency.p99} ms`);

  const batchResult = await acceptedPosts(`ingest, ${phases.batch.eventsPerRequest} events a request`, url, pid, phases.batchBodies, connections);
  const batch = { ...batchResult, eventsPerSecond: batchResult.requestsPerSecond * phases.batch.eventsPerRequest };
  log(`ingest, ${phases.batch.eventsPerRequest} events a request: ${Math.round(batch.requestsPerSecond)} requests/s = ${Math.round(batch.eventsPerSecond)} events/s`);

  return { results: { single, halfRate, batch }, sent: [phases.warm, phases.single, half, phases.batch] };
}
