import { afterAll, beforeAll, expect, it } from 'vitest';
import { documentedRoutes, responseProblems } from '../test/support/openapi/conformance.ts';
import type { OpenApiDocument } from '../shared/openapi/document.ts';
import { createHarness, event, type Harness } from '../dev/harness.ts';
import { createGatewayApp } from './gateway.ts';
import { createLocalApp } from './local-app.ts';

let h: Harness;
let app: ReturnType<typeof createLocalApp>;
let document: OpenApiDocument;
beforeAll(async () => {
  h = await createHarness('local-app');
  app = createLocalApp({ ingest: h.ingest, process: h.process, stats: h.stats }, h.config);
  document = (await (await app.request('/openapi.json')).json()) as OpenApiDocument;
});
afterAll(() => h.cleanup());

const routesOf = (a: { routes: Array<{ method: string; path: string }> }) => a.routes.filter((r) => r.method !== 'ALL').map((r) => ({ method: r.method.toLowerCase(), path: r.path }));

it('documents every route npm start serves, and no other', () => {
  const functions = { ingest: h.ingest, process: h.process, stats: h.stats };
  const expected = new Set(routesOf(app).map((r) => `${r.method} ${r.path}`));
  for (const route of createGatewayApp(functions).routes) {
    const mounted = /^\/function\/(\w+)(\/\*)?$/.exec(route.path);
    if (mounted) {
      // `/function/<name>` and `/function/<name>/*` reach every route of that function.
      for (const r of routesOf(functions[mounted[1] as keyof typeof functions])) expected.add(`${r.method} /function/${mounted[1]}${r.path === '/' ? '' : r.path}`);
    } else if (route.path !== '/*') {
      // An alias reaches the same path on its function.
      const methods = Object.values(functions).flatMap((f) => routesOf(f).filter((r) => r.path === route.path).map((r) => r.method));
      expect(methods, `alias ${route.path}`).not.toEqual([]);
      for (const method of methods) expected.add(`${method} ${route.path}`);
    }
  }
  expect(documentedRoutes(document).sort()).toEqual([...expected].sort());
});

it('answers every documented route as documented', async () => {
  const problems: string[] = [];
  for (const route of documentedRoutes(document)) {
    const [method, path] = route.split(' ') as ['get' | 'post', string];
    const init: RequestInit = method === 'post'
      ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event({ event_id: path })) }
      : {};
    const response = await app.request(path, init);
    if (response.status >= 300) problems.push(`${route}: ${response.status}`);
    problems.push(...(await responseProblems(document, method, path, response)));
  }
  expect(problems).toEqual([]);
});

it('serves the dashboard at the root and under the stats function', async () => {
  for (const path of ['/dashboard', '/function/stats/dashboard']) {
    const response = await app.request(path);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(await response.text()).toContain('<title>Event aggregator · dashboard</title>');
  }
});
