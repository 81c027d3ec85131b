// The bare Hono ceiling: the framework and Node adapter ingest uses, with a
// handler that only parses the JSON body and answers 202. Spawned by the bench
// like a function, so PORT comes from the environment as it does for them.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono()
  .get('/healthz', (c) => c.text('ok'))
  .post('/publish', async (c) => {
    const body: unknown = await c.req.json();
    return c.json({ accepted: Array.isArray(body) ? body.length : 1 }, 202);
  });

serve({ fetch: app.fetch, port: Number(process.env.PORT) });
