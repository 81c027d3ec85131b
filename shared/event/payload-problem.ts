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
  return walk(payload, 1, maxDepth, []);
}

const at = (path: Array<string | number>, message: string): PayloadProblem => ({ path: [...path], message });

// A module-level walk with an explicit path: it runs for every event of every request,
// so it allocates nothing but the path steps unless it finds a problem.
function walk(value: unknown, depth: number, maxDepth: number, path: Array<string | number>): PayloadProblem | null {
  if (typeof value === 'string') {
    const problem = unstorableText(value);
    return problem ? at(path, `a string ${problem}`) : null;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? null : at(path, 'a number is out of range (beyond ±1.8e308)');
  if (typeof value !== 'object' || value === null) return null;
  if (depth > maxDepth) return at(path, `must not nest deeper than ${maxDepth} levels`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      const problem = walk(value[i], depth + 1, maxDepth, path);
      if (problem) return problem;
      path.pop();
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    path.push(key);
    const keyProblem = unstorableText(key);
    const problem = keyProblem ? at(path, `a key ${keyProblem}`) : walk((value as Record<string, unknown>)[key], depth + 1, maxDepth, path);
    if (problem) return problem;
    path.pop();
  }
  return null;
}
