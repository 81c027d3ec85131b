import { eventsBetween, type Plan } from '../../loadtest/lib/events.js';

/**
 * Sends a plan's events to `url` from `concurrency` publishers, `batch` events a
 * request, retrying 429 and 503 as a polite publisher would. Each publisher takes
 * the next unsent slice, so slices interleave across publishers.
 */
export async function publishPlan(url: string, plan: Plan, options: { batch: number; concurrency: number }) {
  let next = 0;
  let requests = 0;
  async function publisher() {
    for (;;) {
      const from = next;
      if (from >= plan.total) return;
      next += options.batch;
      const events = eventsBetween(plan, from, from + options.batch);
      const body = events.length === 1 ? JSON.stringify(events[0]) : JSON.stringify(events);
      for (let attempt = 0; ; attempt++) {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        requests++;
        if (response.status === 202 || response.status === 200) break;
        if ((response.status !== 429 && response.status !== 503) || attempt > 50) {
          throw new Error(`publish failed: ${response.status} ${await response.text()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, publisher));
  return { requests };
}
