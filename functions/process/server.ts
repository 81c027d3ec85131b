import { runFunction } from '../../shared/runtime/run-function.ts';
import { createProcessFunction } from './process-function.ts';

// The poller runs beside the HTTP trigger: a platform that sends the function no
// traffic must still drain the queue (so it must not scale this to zero).
await runFunction('process', { redis: true, db: true }, (resources) => {
  const { app, startPoller } = createProcessFunction(resources);
  const poller = startPoller();
  return { fetch: app.fetch, onStop: () => poller.stop() };
});
