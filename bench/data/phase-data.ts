import { eventsBetween, expectedCounts, planRun, type GeneratedEvent, type Plan } from '../../loadtest/lib/events.js';

/**
 * The events of one phase of a run. Each phase has its own run id, so no two
 * phases share a key and each phase's stored rows can be counted apart.
 */
export type PhaseData = { name: string; plan: Plan; eventsPerRequest: number };

/** Phase names become the run id, the part of each event_id before its `-`. */
export function phaseData(name: string, total: number, eventsPerRequest: number, options: { duplicates: number; seed: number }): PhaseData {
  if (!/^[a-z0-9]+$/.test(name)) throw new Error(`phase name ${name} must be lower-case letters and digits`);
  return { name, plan: planRun({ total, duplicateRatio: options.duplicates, seed: options.seed, runId: name }), eventsPerRequest };
}

/** The phase's events in request-sized groups, in the order publishers send them. */
export function* requestsOf(phase: PhaseData): Generator<GeneratedEvent[]> {
  for (let from = 0; from < phase.plan.total; from += phase.eventsPerRequest) {
    yield eventsBetween(phase.plan, from, from + phase.eventsPerRequest);
  }
}

/** Request bodies, built before the clock starts so the load generator only sends. A one-event request is the bare object. */
export function bodiesOf(phase: PhaseData): string[] {
  const bodies: string[] = [];
  for (const events of requestsOf(phase)) bodies.push(JSON.stringify(events.length === 1 ? events[0] : events));
  return bodies;
}

export type Expected = { received: number; unique: number; duplicates: number; topics: Map<string, { unique: number; duplicates: number }> };

/** What the counters must read once every phase listed was accepted and processed. */
export function expectedAfter(phases: readonly PhaseData[]): Expected {
  const topics = new Map<string, { unique: number; duplicates: number }>();
  for (const phase of phases) {
    for (const [topic, counts] of Object.entries(expectedCounts(phase.plan).topics)) {
      const sum = topics.get(topic) ?? { unique: 0, duplicates: 0 };
      sum.unique += counts.unique;
      sum.duplicates += counts.duplicates;
      topics.set(topic, sum);
    }
  }
  return {
    received: phases.reduce((n, p) => n + p.plan.total, 0),
    unique: phases.reduce((n, p) => n + p.plan.unique, 0),
    duplicates: phases.reduce((n, p) => n + p.plan.duplicates, 0),
    topics,
  };
}
