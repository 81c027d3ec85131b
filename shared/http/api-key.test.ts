import { Hono } from 'hono';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics/metrics.ts';
import { apiKey } from './api-key.ts';
import { errorHandler } from './error-handler.ts';

const appWith = (keys: string[]) =>
  new Hono().get('/', apiKey(keys), (c) => c.text('in')).onError(errorHandler(pino({ level: 'silent' }), createMetrics(), { takesEvents: false }));

const status = async (app: Hono, headers: Record<string, string> = {}) => (await app.request('/', { headers })).status;

describe('apiKey', () => {
  it('leaves the route open when no key is configured', async () => {
    expect(await status(appWith([]))).toBe(200);
  });

  it('takes any configured key as a bearer token or as X-API-Key', async () => {
    const app = appWith(['k-one', 'k-two']);
    expect(await status(app, { authorization: 'Bearer k-one' })).toBe(200);
    expect(await status(app, { authorization: 'BEARER   k-two  ' })).toBe(200);
    expect(await status(app, { 'x-api-key': 'k-two' })).toBe(200);
  });

  it('answers 401 with the contract body and a challenge otherwise', async () => {
    const app = appWith(['k-one']);
    const refused: Array<Record<string, string>> = [{}, { authorization: 'Bearer k-on' }, { authorization: 'Bearer k-one1' }, { authorization: 'k-one' }, { authorization: 'Basic k-one' }, { 'x-api-key': '' }, { authorization: 'Bearer' }];
    for (const headers of refused) {
      const response = await app.request('/', { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.json()).toEqual({ error: 'unauthorized', message: 'a valid API key is required' });
    }
  });

  it('does not let an empty key in when the list has one', async () => {
    expect(await status(appWith(['k-one']), { 'x-api-key': '' })).toBe(401);
  });
});
