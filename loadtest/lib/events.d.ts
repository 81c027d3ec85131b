export type Plan = {
  total: number;
  unique: number;
  duplicates: number;
  topics: string[];
  runId: string;
  multiplier: number;
  offset: number;
};
export type GeneratedEvent = {
  topic: string;
  event_id: string;
  timestamp: string;
  source: string;
  payload: { key: number; amount: number; note: string };
};
export function planRun(options: { total: number; duplicateRatio?: number; seed?: number; topics?: string[]; runId?: string }): Plan;
export function keyAt(plan: Plan, position: number): number;
export function eventAt(plan: Plan, position: number): GeneratedEvent;
export function eventsBetween(plan: Plan, from: number, to: number): GeneratedEvent[];
export function expectedCounts(plan: Plan): {
  unique: number;
  duplicates: number;
  topics: Record<string, { unique: number; duplicates: number }>;
};
