import { unstorableText } from './storable-text.ts';

/** Where in a payload a problem is (keys and array indexes from its root) and what it is. */
export type PayloadProblem = { path: Array<string | number>; message: string };

/**
 * The first reason a payload cannot be stored as given, or null. One walk checks
 * nesting depth (the payload object is level 1), every string and every key
 * (no `\u0000`, no lone surrogate) and every number (JSON.parse turns `1e400`
 * into Infinity, which would be stored as null: a silent change, so refused).
 *
 * @example payloadProblem({ a: [{ b: '\u0000' }] }, 32) // { path: ['a', 0, 'b'], message: ... }
 */
export function payloadProblem(payload: Record<string, unknown>, maxDepth: number): PayloadProblem | null {
  const path: Array<string | number> = [];
  const found = (message: string): PayloadProblem => ({ path: [...path], message });

  function walk(value: unknown, depth: number): PayloadProblem | null {
    if (typeof value === 'string') {
      const problem = unstorableText(value);
      return problem ? found(`a string ${problem}`) : null;
    }
    if (typeof value === 'number') return Number.isFinite(value) ? null : found('a number is out of range (beyond ±1.8e308)');
    if (typeof value !== 'object' || value === null) return null;
    if (depth > maxDepth) return found(`must not nest deeper than ${maxDepth} levels`);
    const entries: Array<[string | number, unknown]> = Array.isArray(value) ? [...value.entries()] : Object.entries(value);
    for (const [key, child] of entries) {
      path.push(key);
      const keyProblem = typeof key === 'string' ? unstorableText(key) : null;
      const problem = keyProblem ? found(`a key ${keyProblem}`) : walk(child, depth + 1);
      if (problem) return problem;
      path.pop();
    }
    return null;
  }

  return walk(payload, 1);
}
