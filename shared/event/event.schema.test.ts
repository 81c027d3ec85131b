import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig } from '../config/config.ts';
import { jsonSchemaOf } from '../openapi/json-schema.ts';
import { eventSchema } from './event.schema.ts';

const schema = eventSchema(defaultConfig().limits);
const valid = { topic: 'orders', event_id: 'e-1', timestamp: '2026-11-25T08:00:00Z', source: 'checkout-svc', payload: { amount: 10 } };
const problems = (value: unknown, s = schema) => {
  const result = v.safeParse(s, value);
  return result.success ? [] : result.issues.map((issue) => ({ path: v.getDotPath(issue), message: issue.message }));
};

describe('eventSchema', () => {
  it('accepts an event of the contract and returns it unchanged', () => {
    expect(v.parse(schema, valid)).toEqual(valid);
    expect(problems({ ...valid, topic: 'a.b_c-d:e/f', event_id: '😀'.repeat(128), source: 'ünïcödé' })).toEqual([]);
  });

  it('names a missing field as required', () => {
    const { topic: _topic, ...withoutTopic } = valid;
    expect(problems(withoutTopic)).toEqual([{ path: 'topic', message: 'topic is required' }]);
  });

  it('refuses unknown fields, prototype names included', () => {
    expect(problems({ ...valid, extra: 1 })).toEqual([{ path: 'extra', message: 'unknown field' }]);
    expect(problems(JSON.parse(`${JSON.stringify(valid).slice(0, -1)},"__proto__":{}}`))).toEqual([{ path: '__proto__', message: 'unknown field' }]);
    expect(problems({ ...valid, constructor: 'x' })).toEqual([{ path: 'constructor', message: 'unknown field' }]);
  });

  it('refuses lone surrogates in every text field', () => {
    for (const field of ['topic', 'event_id', 'source']) expect(problems({ ...valid, [field]: 'a\ud800' })).toMatchObject([{ path: field }]);
  });

  it('refuses control characters in event_id and source, and all but its charset in topic', () => {
    expect(problems({ ...valid, event_id: 'a\tb' })).toEqual([{ path: 'event_id', message: 'event_id must not contain control characters' }]);
    expect(problems({ ...valid, source: 'a\u0085' })).toMatchObject([{ path: 'source' }]);
    expect(problems({ ...valid, topic: 'a b' })).toEqual([{ path: 'topic', message: 'topic may contain only letters, digits and . _ - : /' }]);
  });

  it('has the topic rule the OpenAPI document publishes', () => {
    const published = jsonSchemaOf(schema, {}).properties as Record<string, { pattern: string; description: string }>;
    const pattern = new RegExp(published.topic!.pattern, 'u');
    for (const topic of ['orders', 'a.b_c-d:e/f', 'Bestellungen.ü', '注文', 'a b', 'a+b', 'a\\b', 'a#b', 'a\u00a0b', '٣']) {
      expect({ topic, published: pattern.test(topic) }).toEqual({ topic, published: problems({ ...valid, topic }).length === 0 });
    }
    expect(problems({ ...valid, topic: 'a b' })[0]!.message).toContain(published.topic!.description);
  });

  it('points into the payload at the problem', () => {
    expect(problems({ ...valid, payload: { items: [{}, { name: 'a\u0000' }] } })).toEqual([
      { path: 'payload.items.1.name', message: 'payload: a string must not contain \\u0000' },
    ]);
  });

  it('follows its limits', () => {
    const small = eventSchema(loadConfig({ MAX_TOPIC_LENGTH: '3', MAX_PAYLOAD_BYTES: '20', MAX_PAYLOAD_DEPTH: '2' }, { secretsDir: null }).limits);
    expect(problems({ ...valid, topic: 'abcd' }, small)).toEqual([{ path: 'topic', message: 'topic must be at most 3 characters' }]);
    expect(problems({ ...valid, topic: 'abc', payload: { text: 'more than twenty bytes' } }, small)).toMatchObject([{ path: 'payload' }]);
    expect(problems({ ...valid, topic: 'abc', payload: { a: { b: 1 } } }, small)).toEqual([]);
    expect(problems({ ...valid, topic: 'abc', payload: { a: { b: {} } } }, small)).toMatchObject([{ path: 'payload.a.b' }]);
  });

  it('never quotes the input in a message', () => {
    const secret = 'S3CRET-VALUE';
    const everything = problems({ topic: secret, event_id: secret, timestamp: secret, source: [secret], payload: secret, [secret]: 1 });
    expect(everything.length).toBeGreaterThan(3);
    for (const { message } of everything) expect(message).not.toContain(secret);
  });
});
