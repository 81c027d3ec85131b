import { Worker } from 'node:worker_threads';
import type { Logger } from '../shared/log/logger.ts';
import type { FromStorage, MetricsJson, ToStorage } from './storage-messages.ts';

// How long a scrape waits for the storage thread's metrics before it serves the main thread's alone.
const METRICS_PATIENCE_MS = 1_000;

/**
 * The thread's entry, as source or as compiled code. Under tsx, a worker thread does not inherit
 * the TypeScript loader (Node 20 runs `--import` hooks per thread only for the main one), so the
 * worker first registers tsx itself and then imports the entry.
 */
function spawn(): Worker {
  const compiled = import.meta.url.endsWith('.js');
  const entry = new URL(compiled ? './storage-worker.js' : './storage-worker.ts', import.meta.url);
  // A young generation of 12 MB (semi-spaces of 4, as `npm start` gives the HTTP thread): V8's default
  // of 48 MB a thread put the process over 300 MB of peak RSS under load, for no CPU the bench could see.
  const options = { resourceLimits: { maxYoungGenerationSizeMb: 12 } };
  if (compiled) return new Worker(entry, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true, ...options });
}

export type StorageThread = {
  /** The storage thread's own metrics (aggregator_*), or none when it does not answer in time. */
  metrics(): Promise<MetricsJson>;
  /** Stops claiming, lets in-flight batches finish or hands them back, and waits for the thread to end. */
  stop(): Promise<void>;
};

/**
 * Starts the queue's claim loops (WORKERS of them) in a worker thread, so that HTTP and PostgreSQL
 * work each have an event loop and a core. The thread dies with the process (a crash loses
 * nothing: leases run out and the batches are taken again); if it ends on its own, the process
 * ends too, with code 1, rather than accept events nobody stores. Resolves once the claim loops
 * run, so that a stop always finds them running.
 *
 * @example const storage = await startStorageThread(logger); ...; await storage.stop()
 */
export async function startStorageThread(logger: Logger): Promise<StorageThread> {
  const worker = spawn();
  const waiting = new Map<number, (metrics: MetricsJson) => void>();
  let nextId = 0;
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const send = (message: ToStorage) => worker.postMessage(message);

  const started = new Promise<void>((resolve) => {
    worker.on('message', (message: FromStorage) => {
      if (message.type === 'started') return resolve();
      waiting.get(message.id)?.(message.metrics);
      waiting.delete(message.id);
    });
  });
  worker.on('error', (error) => logger.fatal({ err: error }, 'The storage thread failed'));
  worker.once('exit', (code) => {
    if (stopping) return;
    logger.fatal({ code }, 'The storage thread ended; stopping, as nothing would store the queued events');
    process.exit(1);
  });

  await started;
  return {
    metrics() {
      const id = nextId++;
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve([]);
        }, METRICS_PATIENCE_MS);
        waiting.set(id, (metrics) => {
          clearTimeout(timer);
          resolve(metrics);
        });
        send({ type: 'metrics', id });
      });
    },
    async stop() {
      if (!stopping) {
        stopping = true;
        send({ type: 'stop' });
      }
      await exited;
    },
  };
}
