import { describe, expect, it } from 'vitest';
import { payloadProblem } from './payload-problem.ts';

const nested = (levels: number): Record<string, unknown> => {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
};

describe('payloadProblem', () => {
  it('accepts JSON values of every kind', () => {
    expect(payloadProblem({ s: 'é😀', n: -0.5, b: false, z: null, list: [1, 'two', { three: [3] }], o: {} }, 32)).toBeNull();
  });

  it('counts the payload object as level 1', () => {
    expect(payloadProblem(nested(32), 32)).toBeNull();
    expect(payloadProblem(nested(33), 32)).toEqual({ path: Array(32).fill('a'), message: 'must not nest deeper than 32 levels' });
    expect(payloadProblem({ list: [[[]]] }, 3)).toEqual({ path: ['list', 0, 0], message: 'must not nest deeper than 3 levels' });
  });

  it('names the path of the first bad string, key or number', () => {
    expect(payloadProblem({ items: [{ ok: 'x' }, { name: 'a\u0000' }] }, 32)).toEqual({ path: ['items', 1, 'name'], message: 'a string must not contain \\u0000' });
    expect(payloadProblem({ ok: { 'k\u0000': 1 } }, 32)).toMatchObject({ path: ['ok', 'k\u0000'], message: 'a key must not contain \\u0000' });
    expect(payloadProblem({ list: ['\ud800'] }, 32)).toMatchObject({ path: ['list', 0], message: expect.stringMatching(/lone surrogate/) });
    expect(payloadProblem({ '\udc00': 1 }, 32)).toMatchObject({ path: ['\udc00'], message: expect.stringMatching(/^a key/) });
    expect(payloadProblem(JSON.parse('{"n":{"m":[1e400]}}') as Record<string, unknown>, 32)).toMatchObject({ path: ['n', 'm', 0] });
  });

  it('treats __proto__ and constructor as keys like any other', () => {
    const payload = JSON.parse('{"__proto__":{"x":"\\u0000"},"constructor":1}') as Record<string, unknown>;
    expect(payloadProblem(payload, 32)).toEqual({ path: ['__proto__', 'x'], message: 'a string must not contain \\u0000' });
  });
});
