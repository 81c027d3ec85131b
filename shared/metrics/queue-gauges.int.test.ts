import { afterAll, expect, it } from 'vitest';
import { freePort } from '../../dev/processes.ts';
import { testRedis } from '../../dev/services.ts';
import { EventQueue } from '../queue/queue.ts';
import { createRedis } from '../queue/redis.ts';
import { createMetrics } from './metrics.ts';
import { watchQueue } from './queue-gauges.ts';

const r = testRedis('queue-gauges');
afterAll(r.cleanup);

const event = (id: string) => ({ topic: 'orders', event_id: id, timestamp: '2026-11-25T08:00:00Z', source: 's', payload: {} });

/** The value of an unlabelled series in Prometheus text. */
const valueOf = (text: string, name: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

it('reads queue length, batches in flight and pending events from Redis at scrape time', async () => {
  const queue = new EventQueue(r.redis, r.prefix);
  const metrics = createMetrics();
  watchQueue(metrics, queue);

  let text = await metrics.registry.metrics();
  expect(valueOf(text, 'aggregator_queue_messages')).toBe(0);
  expect(text).toContain('# TYPE aggregator_queue_processing_batches gauge');

  expect(valueOf(text, 'aggregator_queue_oldest_pending_age_seconds')).toBe(0);
  await queue.enqueue({ id: 'm1', at: Date.now() - 90_000, events: [event('a'), event('b')] }, 1_000);
  await queue.enqueue({ id: 'm2', at: Date.now() - 30_000, events: [event('c')] }, 1_000);
  await queue.enqueue({ id: 'm3', events: [event('d')] }, 1_000);
  await queue.claim({ maxMessages: 1, maxEvents: 100, leaseMs: 60_000 });

  text = await metrics.registry.metrics();
  expect(valueOf(text, 'aggregator_queue_messages')).toBe(2);
  expect(valueOf(text, 'aggregator_queue_processing_batches')).toBe(1);
  expect(valueOf(text, 'aggregator_events_pending')).toBe(4);
  // m1 (90 s old) is in flight, m2 (30 s) waits: the oldest pending is m1.
  expect(valueOf(text, 'aggregator_queue_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(90);
  expect(valueOf(text, 'aggregator_queue_oldest_pending_age_seconds')).toBeLessThan(120);
});

it('adds the queue shards up', async () => {
  const queue = new EventQueue(r.redis, `${r.prefix}-sharded`, { shards: 3 });
  const metrics = createMetrics();
  watchQueue(metrics, queue);
  for (let i = 0; i < 30; i++) await queue.enqueue({ id: `m${i}`, at: Date.now() - (30 - i) * 1_000, events: [event(`e${i}`), event(`f${i}`)] }, 1_000);
  for (let i = 0; i < 3; i++) await queue.claim({ maxMessages: 1, maxEvents: 100, leaseMs: 60_000 });

  const text = await metrics.registry.metrics();
  expect(valueOf(text, 'aggregator_queue_messages')).toBe(27);
  expect(valueOf(text, 'aggregator_queue_processing_batches')).toBe(3);
  expect(valueOf(text, 'aggregator_events_pending')).toBe(60);
  // m0, 30 s old, is the oldest of all, in whichever shard it went (and in flight now: the first of its shard).
  expect(valueOf(text, 'aggregator_queue_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(30);
  expect(valueOf(text, 'aggregator_queue_oldest_pending_age_seconds')).toBeLessThan(60);
});

it('reads NaN, not 0, while Redis does not answer, and the scrape still succeeds', async () => {
  const away = createRedis(`redis://127.0.0.1:${await freePort()}`, 'gauges-test');
  away.on('error', () => undefined);
  try {
    const metrics = createMetrics();
    watchQueue(metrics, new EventQueue(away, r.prefix));
    const text = await metrics.registry.metrics();
    expect(valueOf(text, 'aggregator_queue_messages')).toBeNaN();
    expect(valueOf(text, 'aggregator_events_pending')).toBeNaN();
    expect(text).toContain('aggregator_events_accepted_total 0');
  } finally {
    away.disconnect();
  }
});
