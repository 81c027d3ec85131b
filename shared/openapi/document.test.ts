import { Hono } from 'hono';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/config.ts';
import { apiKey } from '../http/api-key.ts';
import { eventSchema } from '../event/event.schema.ts';
import { openApiDocument } from './document.ts';
import { eventsBody, json, named } from './responses.ts';
import { describeRoute } from './route-doc.ts';

const info = { title: 't', description: 'd' };
const ok = { 200: json('fine', named('Fine', v.strictObject({ n: v.nullable(v.number()) }))) };
const documentOf = (app: Hono) => openApiDocument(info, [{ tag: 'x', routes: app.routes }]);

describe('openApiDocument', () => {
  it('adds what follows from a route\'s parts: security and 401 for its key middleware, 400 for a query and a body, 413 and 415 for a body', () => {
    const inner = new Hono()
      .post('/in', apiKey(['k']), describeRoute({ summary: 's', query: v.object({ q: v.optional(v.string()) }), events: eventsBody(eventSchema(defaultConfig().limits)), responses: ok }), (c) => c.json({ n: 1 }))
      .onError((_e, c) => c.text('x', 500));
    // Mounting wraps each handler in the sub-app's error handler: the description is still found.
    const op = documentOf(new Hono().route('/sub', inner)).paths['/sub/in']!.post!;
    expect(Object.keys(op.responses).sort()).toEqual(['200', '400', '401', '413', '415']);
    expect(op.security).toEqual([{ bearer: [] }, { apiKey: [] }, {}]);
    expect(op.parameters).toEqual([{ name: 'q', in: 'query', required: false, schema: { type: 'string' } }]);
    const bad = op.responses[400]!.content['application/json']!.schema as { properties: { error: { enum: string[] } } };
    expect(bad.properties.error.enum).toEqual(['invalid_json', 'validation_failed', 'empty_batch', 'invalid_encoding', 'incomplete_body', 'invalid_query']);
  });

  it('puts a titled schema in components, and a nullable value as a type list', () => {
    const document = documentOf(new Hono().get('/a', describeRoute({ summary: 's', responses: ok }), (c) => c.json({ n: null })));
    expect(document.paths['/a']!.get!.responses[200]!.content['application/json']!.schema).toEqual({ $ref: '#/components/schemas/Fine' });
    expect(document.components.schemas.Fine).toMatchObject({ properties: { n: { type: ['number', 'null'] } }, additionalProperties: false });
  });

  it('refuses a route without a description, and a path parameter it does not describe', () => {
    expect(() => documentOf(new Hono().get('/bare', (c) => c.text('x')))).toThrow('GET /bare has no describeRoute()');
    const param = new Hono().get('/x/:id', describeRoute({ summary: 's', responses: ok }), (c) => c.text('x'));
    expect(() => documentOf(param)).toThrow('describe the path parameter id');
  });
});
