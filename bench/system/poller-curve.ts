import { requestsOf, type PhaseData } from '../data/phase-data.ts';
import type { EventQueue } from '../../shared/queue/queue.ts';
import { drained } from './drain.ts';
import { startMember, stopMember, type MemberReport } from './stack.ts';

export type PollerPoint = { pollers: number; events: number; seconds: number; eventsPerSecond: number; peakRssMb: number };

/**
 * For each poller count: starts a process function with that many claim loops
 * (WORKERS), queues the phase's events straight into Redis as ingest would
 * (`batch`-event requests, all at once: those of a turn share a queue message,
 * up to 1,000 events), and times the drain from the first push to the
 * last acknowledgement. Pushing takes a few milliseconds against seconds of
 * draining, so the time is the workers'.
 */
export async function measurePollerCurve(args: {
  pollers: readonly number[];
  phaseFor: (pollers: number) => PhaseData;
  queue: EventQueue;
  receivedBefore: number;
  env: Record<string, string>;
  /** The process function's entry, source or compiled. */
  entry: string;
  profileDir: string | null;
  log: (line: string) => void;
}): Promise<{ points: PollerPoint[]; sent: PhaseData[]; processes: MemberReport[] }> {
  const points: PollerPoint[] = [];
  const processes: MemberReport[] = [];
  const sent: PhaseData[] = [];
  let received = args.receivedBefore;
  for (const pollers of args.pollers) {
    const phase = args.phaseFor(pollers);
    const messages = [...requestsOf(phase)].map((events, i) => ({ id: `${phase.name}-${i}`, at: Date.now(), events }));
    const member = await startMember(`process-${pollers}-pollers`, args.entry, { ...args.env, WORKERS: String(pollers) }, args.profileDir);
    try {
      const started = performance.now();
      await Promise.all(messages.map((message) => args.queue.enqueue(message, Number.MAX_SAFE_INTEGER)));
      sent.push(phase);
      received += phase.plan.total;
      const done = await drained(args.queue, received, 120_000 + phase.plan.total);
      const report = await stopMember(member);
      processes.push(report);
      const seconds = (done - started) / 1000;
      points.push({ pollers, events: phase.plan.total, seconds, eventsPerSecond: phase.plan.total / seconds, peakRssMb: report.peakRssMb });
      args.log(`pollers ${pollers}: ${phase.plan.total} events in ${seconds.toFixed(2)} s = ${Math.round(phase.plan.total / seconds)} events/s`);
    } finally {
      await member.process.kill(); // nothing left to do once it stopped; a failed wait must not leave it running
    }
  }
  return { points, sent, processes };
}
