import type { Plan } from './events.js';

export type Expectation = {
  sent: number;
  unique: number;
  duplicates: number;
  topics: Record<string, { unique: number; duplicates: number }>;
};
export type StatsBody = {
  received: number;
  unique_processed: number;
  duplicate_dropped: number;
  pending: number;
  dead_lettered: number;
  topics?: Array<{ topic: string; unique_processed: number; duplicate_dropped: number }>;
};
export type Comparison = { ok: boolean; rows: Array<{ name: string; expected: number; observed: number; ok: boolean }> };

export function expectationOf(plan: Plan): Expectation;
export function compareStats(expected: Expectation, before: StatsBody, after: StatsBody): Comparison;
export function formatComparison(result: Comparison): string[];
