import { describe, expect, it } from 'vitest';
import { eventPage, QueueStatus, Stats } from '../../../functions/stats/bodies.ts';
import { defaultConfig } from '../../../shared/config/config.ts';
import { eventSchema } from '../../../shared/event/event.schema.ts';
import { opsRoutes } from '../../../shared/http/ops-routes.ts';
import { createMetrics } from '../../../shared/metrics/metrics.ts';
import { openApiDocument } from '../../../shared/openapi/document.ts';
import { jsonSchemaOf } from '../../../shared/openapi/json-schema.ts';
import { eventsBody } from '../../../shared/openapi/responses.ts';
import { schemaProblems } from './check-schema.ts';

// The schemas of real documents: Health from the ops routes' document, the others added to its components.
const limits = defaultConfig().limits;
const ops = opsRoutes({ readiness: async () => ({}), metrics: createMetrics() });
const document = openApiDocument({ title: 'ops', description: 'the ops routes' }, [{ tag: 'ops', routes: ops.routes }]);
for (const schema of [Stats, eventPage(limits), QueueStatus, eventsBody(eventSchema(limits))['application/json']]) jsonSchemaOf(schema, document.components.schemas);
const check = (name: string, value: unknown) => schemaProblems(document, { $ref: `#/components/schemas/${name}` }, value);

const stats = { received: 3, unique_processed: 2, duplicate_dropped: 1, pending: 0, dead_lettered: 0, topics: [{ topic: 'a', unique_processed: 2, duplicate_dropped: 1 }], uptime_seconds: 1.5 };
const stored = { topic: 'orders', event_id: 'e', timestamp: '2026-11-25T08:00:00Z', source: 's', payload: {}, stored_at: '2026-11-25T08:00:01.5Z' };

describe('schemaProblems', () => {
  it('accepts bodies of the documented shape', () => {
    expect(check('Stats', stats)).toEqual([]);
    expect(check('EventPage', { events: [stored], next_cursor: null })).toEqual([]);
    expect(check('QueueStatus', { queue: null, dependencies: { redis: false } })).toEqual([]);
  });

  it('names each way a body breaks its schema', () => {
    expect(check('Stats', { ...stats, received: -1, extra: true, topics: [{ topic: 'a' }] }).sort()).toEqual([
      '$.received: -1 is under 0',
      '$.topics[0]: lacks duplicate_dropped',
      '$.topics[0]: lacks unique_processed',
      '$: has extra, which the schema does not allow',
    ].sort());
    expect(check('Stats', { ...stats, uptime_seconds: '1' })).toEqual(['$.uptime_seconds: is string, not number']);
    expect(check('EventPage', { events: [{ ...stored, timestamp: '2026-11-25 08:00' }], next_cursor: 3 })).toEqual([
      '$.events[0].timestamp: is not an RFC 3339 date-time',
      '$.next_cursor: is integer, not string or null',
    ]);
    expect(check('Event', { ...stored, stored_at: undefined, topic: 'no spaces' })).toContain('$.topic: does not match ^[\\p{L}\\p{Nd}._:/-]+$');
    expect(check('Health', { status: 'fine' })).toEqual(['$.status: is "fine", not "ok"']);
    expect(check('QueueStatus', { queue: { messages: 1 }, dependencies: {} })).toEqual(['$.queue: lacks batches_in_flight']);
    expect(check('QueueStatus', { queue: null, dependencies: { redis: 'yes' } })).toEqual(['$.dependencies.redis: is string, not boolean']);
    expect(check('EventBatch', [{ ...stored, stored_at: undefined }, 3])).toEqual(['$: matches none of the anyOf options']);
  });

  it('refuses schemas it cannot check fully, and dangling references', () => {
    expect(() => schemaProblems(document, { type: 'string', contentEncoding: 'base64' }, 'x')).toThrow(/unsupported schema keyword contentEncoding/);
    expect(() => check('Nothing', {})).toThrow(/does not resolve/);
  });
});
