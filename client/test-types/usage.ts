// Typechecked by package.test.ts against the built package, as a user would write it.
import { createPublisher, FlushError, InvalidEventError, type Event, type PublisherOptions } from '@event-aggregator/client';

const options: PublisherOptions = { url: 'https://events.example', apiKey: 'k', onError: (e) => console.warn(e.status, e.willRetry) };
const publisher = createPublisher(options);
const stored: Event = await publisher.publish({ topic: 'orders', source: 'web', payload: { total: 12 } });
console.log(stored.event_id, publisher.stats().unsettled);
try {
  await publisher.close();
} catch (error) {
  if (error instanceof FlushError) console.warn(error.errors[0]?.details);
  if (error instanceof InvalidEventError) console.warn(error.details);
}
