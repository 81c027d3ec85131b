import { Redis } from 'ioredis';
import { encodeMessage, type QueueMessage } from '../../shared/queue/message.ts';
import { EventQueue } from '../../shared/queue/queue.ts';
import { withCpuSplit } from '../probes/cpu-split.ts';

export type RedisCeiling = {
  /** Raw LPUSH, `perCall` values a call, several calls in flight: what Redis itself takes. */
  lpushValuesPerSecond: number;
  /** The ingest path's enqueue (encode + Lua script), one request a call, as concurrent requests call it (a turn's requests share a script call and a queue message). */
  enqueueCallsPerSecond: number;
  /** The same with ioredis auto-pipelining: calls made in one tick leave in one write. */
  enqueueAutoPipelinedCallsPerSecond: number;
  /** Client CPU a call, plain and auto-pipelined: what ingest pays per request to reach Redis. */
  enqueueClientCpuUs: number;
  enqueueAutoPipelinedClientCpuUs: number;
};

/** Makes `calls` calls, `parallel` of them in flight at a time. */
async function inFlight(calls: number, parallel: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    for (let i = next++; i < calls; i = next++) await call(i);
  }));
}

/** Seconds of wall time and of this process's CPU that `work` took. */
async function timed(work: () => Promise<unknown>): Promise<{ seconds: number; cpu: number }> {
  const started = performance.now();
  const { cpu } = await withCpuSplit([{ label: 'client', pids: async () => [process.pid] }], work);
  return { seconds: (performance.now() - started) / 1000, cpu: cpu.client ?? 0 };
}

/**
 * Pushes the run's own messages under a scratch prefix, deleted afterwards:
 * raw LPUSH, then the product's enqueue as ingest calls it (one call a
 * request, `inFlight` × 4 requests at once, those of a turn joined into one
 * message), with and without auto-pipelining.
 */
export async function measureRedis(url: string, prefix: string, messages: readonly QueueMessage[], options: { perCall: number; inFlight: number }): Promise<RedisCeiling> {
  const plain = new Redis(url, { maxRetriesPerRequest: 1 });
  const pipelined = new Redis(url, { maxRetriesPerRequest: 1, enableAutoPipelining: true });
  const queue = new EventQueue(plain, `${prefix}-ceiling`);
  const list = `${queue.keys.queue}-lpush`;
  const encoded = messages.map(encodeMessage);
  try {
    const calls = Math.ceil(encoded.length / options.perCall);
    const lpush = await timed(() => inFlight(calls, options.inFlight, (i) =>
      plain.lpush(list, ...encoded.slice(i * options.perCall, (i + 1) * options.perCall))));
    const enqueueWith = (q: EventQueue) => timed(() => inFlight(messages.length, options.inFlight * 4, (i) => q.enqueue(messages[i]!, Number.MAX_SAFE_INTEGER)));
    const enqueue = await enqueueWith(queue);
    const autoPipelined = await enqueueWith(new EventQueue(pipelined, `${prefix}-ceiling`));
    const perCallUs = (cpu: number) => (cpu / messages.length) * 1e6;
    return {
      lpushValuesPerSecond: encoded.length / lpush.seconds,
      enqueueCallsPerSecond: messages.length / enqueue.seconds,
      enqueueAutoPipelinedCallsPerSecond: messages.length / autoPipelined.seconds,
      enqueueClientCpuUs: perCallUs(enqueue.cpu),
      enqueueAutoPipelinedClientCpuUs: perCallUs(autoPipelined.cpu),
    };
  } finally {
    await plain.del(list, queue.keys.queue, queue.keys.counters);
    plain.disconnect();
    pipelined.disconnect();
  }
}
