import { OutcomeWaiter } from '../../shared/queue/outcomes.ts';
import { runFunction } from '../../shared/runtime/run-function.ts';
import { createIngestApp } from './app.ts';

await runFunction('ingest', { redis: true, db: false }, (resources) => {
  const outcomes = new OutcomeWaiter(resources.redis, resources.config.queuePrefix);
  const app = createIngestApp({ ...resources, outcomes });
  // Publishers still waiting get their answer at once (202, or 200 if the outcome is there) instead of a cut connection.
  return { fetch: app.fetch, onStop: () => outcomes.close() };
});
