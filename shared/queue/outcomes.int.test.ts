import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import { testRedis } from '../../dev/services.ts';
import { outcomePublisher, OutcomeWaiter } from './outcomes.ts';
import { queueKeys } from './queue-keys.ts';

// The two ends of the outcome channel over a real Redis, apart from HTTP and PostgreSQL.
const r = testRedis('outcomes');
const keys = queueKeys(r.prefix);
const publish = outcomePublisher(r.redis, r.prefix, pino({ level: 'silent' }));
const waiter = new OutcomeWaiter(r.redis, r.prefix);
/** Every key under the prefix but the shared `waiting` flag, which expires by itself (tested below). */
const keysLeft = async () => (await r.redis.keys(`{${r.prefix}}:*`)).filter((key) => key !== keys.waiting);
afterAll(async () => {
  await waiter.close();
  await r.cleanup();
});

it('keeps an outcome that comes before the wait starts, and wakes on it', async () => {
  const pending = await waiter.expect('early', 5_000);
  await publish([{ batchId: 'early', results: ['stored', 'duplicate'] }]);
  const started = performance.now();
  expect(await pending?.settle(5_000)).toEqual(['stored', 'duplicate']);
  expect(performance.now() - started).toBeLessThan(2_500); // told, not left to the deadline
  expect(await keysLeft()).toEqual([]);
});

it('writes nothing for messages nobody waits on, and only the waited one among others', async () => {
  const pending = await waiter.expect('waited', 5_000);
  await publish([
    { batchId: 'unwaited-1', results: ['stored'] },
    { batchId: 'waited', results: ['duplicate'] },
    { batchId: 'unwaited-2', results: ['stored'] },
  ]);
  expect((await keysLeft()).sort()).toEqual([keys.outcome('waited'), keys.waiter('waited')].sort());
  expect(await pending?.settle(5_000)).toEqual(['duplicate']);
  expect(await keysLeft()).toEqual([]);
});

it('still finds an outcome whose notification was missed, at the deadline', async () => {
  const pending = await waiter.expect('missed', 5_000);
  await r.redis.set(keys.outcome('missed'), 'ds', 'PX', 5_000); // as if published while the subscription was reconnecting
  expect(await pending?.settle(100)).toEqual(['duplicate', 'stored']);
  expect(await keysLeft()).toEqual([]);
});

it('skips the script while no publisher has waited lately', async () => {
  await r.redis.del(keys.waiting);
  await r.redis.set(keys.waiter('unflagged'), keys.outcomeChannel('nobody'), 'PX', 5_000);
  await publish([{ batchId: 'unflagged', results: ['stored'] }]);
  expect(await r.redis.exists(keys.outcome('unflagged'))).toBe(0);
  await r.redis.del(keys.waiter('unflagged'));
});

it('gives each key an expiry, so a waiter that dies leaves nothing for good', async () => {
  await waiter.expect('dies', 1_000);
  const ttl = await r.redis.pttl(keys.waiter('dies'));
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(1_000 + 5_000);
  const flag = await r.redis.pttl(keys.waiting);
  expect(flag).toBeGreaterThanOrEqual(ttl - 100); // it outlives every waiter key ...
  expect(flag).toBeLessThanOrEqual(60_000); // ... and then expires (the longest wait above was 60 s)
  await publish([{ batchId: 'dies', results: ['stored'] }]);
  expect(await r.redis.pttl(keys.outcome('dies'))).toBeGreaterThan(0);
  await r.redis.del(keys.waiter('dies'), keys.outcome('dies'));
});

it('keeps the flag as long as the longest wait, whichever order the waits come in', async () => {
  await r.redis.del(keys.waiting);
  await waiter.expect('long', 20_000);
  await waiter.expect('short', 1_000);
  expect(await r.redis.pttl(keys.waiting)).toBeGreaterThan(20_000);
  await r.redis.del(keys.waiter('long'), keys.waiter('short'));
});

it('ends every wait at once when closed, and then waits no more', async () => {
  const own = new OutcomeWaiter(r.redis, r.prefix);
  const pending = await own.expect('closing', 60_000);
  const settled = pending?.settle(60_000);
  const started = performance.now();
  await own.close();
  expect(await settled).toBeNull();
  expect(performance.now() - started).toBeLessThan(5_000);
  expect(await own.expect('after', 1_000)).toBeNull();
  expect(await keysLeft()).toEqual([]);
});
