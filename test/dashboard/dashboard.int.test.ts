import { copyFile, mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventsBetween, expectedCounts, planRun } from '../../loadtest/lib/events.js';
import { responseProblems } from '../support/openapi/conformance.ts';
import type { OpenApiDocument } from '../../shared/openapi/document.ts';
import { launchBrowser } from '../support/browser.ts';
import { startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { createTestDatabase, testRedis, TEST_REDIS_URL, type TestDatabase } from '../../dev/services.ts';
import { parkLetter } from '../support/dead-letters.ts';
import { event } from '../../dev/harness.ts';
import { expectDrainedAndExact } from '../support/invariant.ts';
import { EventQueue } from '../../shared/queue/queue.ts';
import { waitFor } from '../../dev/wait.ts';

// The dashboard in a real browser against `npm start`: with READ_API_KEYS set the page
// asks for the key, then shows the same numbers as GET /stats once the events are in.

const READ_KEY = 'dashboard-read-key';
const INGEST_KEY = 'dashboard-ingest-key';
const plan = planRun({ total: 6_000, duplicateRatio: 0.3, seed: 11 });

// The little of the DOM the page-side callbacks use (the project compiles without the DOM library).
type PageElement = {
  dataset: Record<string, string | undefined>; textContent: string | null; hidden: boolean; children: ArrayLike<PageElement>;
  nextElementSibling: PageElement | null; getAttribute: (name: string) => string | null;
};
declare const document: { body: PageElement; querySelector: (selector: string) => PageElement | null; querySelectorAll: (selector: string) => Iterable<PageElement> };
declare const localStorage: { getItem: (key: string) => string | null };

let database: TestDatabase;
const redis = testRedis('dashboard');
let runner: FunctionProcess;
let browser: Browser;
let trafficPage: Page; // the page that watched the traffic of the first test
const pageErrors: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase('dashboard', { migrate: false });
  runner = await startFunction('runner/local.ts', { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix, READ_API_KEYS: READ_KEY, INGEST_API_KEYS: INGEST_KEY });
  browser = await launchBrowser();
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await runner?.kill();
  await redis.cleanup();
  await database.drop();
});

const readStats = () => fetch(`${runner.url}/stats`, { headers: { authorization: `Bearer ${READ_KEY}` } });

async function openWithKey(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 860 } });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  // The 401s before the key is given are expected; anything else (a CSP refusal, a script error) is not.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().includes('status of 401')) pageErrors.push(message.text());
  });
  await page.goto(`${runner.url}${path}`);
  await page.locator('#key-panel').waitFor({ state: 'visible', timeout: 15_000 });
  await page.fill('#key-input', READ_KEY);
  await page.click('#key-panel button');
  await page.waitForFunction(() => document.querySelector('[data-counter="received"]')?.getAttribute('data-value') !== null, undefined, { timeout: 15_000 });
  return page;
}

/** What the page shows: counters, topics, dependencies and queue, as numbers where they are numbers. */
const shown = (page: Page) =>
  page.evaluate(() => {
    const value = (e: PageElement | undefined) => Number(e?.dataset.value);
    return {
      counters: Object.fromEntries([...document.querySelectorAll('[data-counter]')].map((e) => [e.dataset.counter, value(e)])),
      texts: Object.fromEntries([...document.querySelectorAll('[data-counter]')].map((e) => [e.dataset.counter, e.textContent])),
      topics: [...document.querySelectorAll('#topics tr')].map((row) => ({
        topic: row.dataset.topic, unique_processed: value(row.children[1]), duplicate_dropped: value(row.children[2]),
      })),
      dependencies: Object.fromEntries([...document.querySelectorAll('[data-dependency]')].map((e) => [e.dataset.dependency, e.dataset.state])),
      queue: Object.fromEntries([...document.querySelectorAll('[data-queue]')].map((e) => [e.dataset.queue, value(e)])),
      chartPoints: document.querySelector('#chart polyline.in')?.getAttribute('points')?.split(' ').length ?? 0,
    };
  });

/** Waits until the page shows exactly what GET /stats answers (the system is quiet, so it holds still). */
async function pageMatchesStats(page: Page) {
  return waitFor(async () => {
    const stats = (await (await readStats()).json()) as Record<string, number> & { topics: unknown[] };
    const { topics, uptime_seconds: _uptime, ...counters } = stats;
    const view = await shown(page);
    const same = JSON.stringify(view.counters) === JSON.stringify(counters) && JSON.stringify(view.topics) === JSON.stringify(topics);
    return same ? { stats, view } : null;
  }, { timeoutMs: 30_000, what: 'the dashboard to show the counters of /stats' });
}

/** What the explorer lists: the key of each event row. */
const listed = (page: Page) =>
  page.evaluate(() => [...document.querySelectorAll('#events tr.event')].map((row) => row.dataset.key));
const readEvents = async (query: string) =>
  (await (await fetch(`${runner.url}/events?${query}`, { headers: { authorization: `Bearer ${READ_KEY}` } })).json()) as {
    events: Array<{ topic: string; event_id: string; payload: unknown }>; next_cursor: string | null;
  };
const keysOf = (page: { events: Array<{ topic: string; event_id: string }> }) => page.events.map((e) => `${e.topic}/${e.event_id}`);

async function searchFor(page: Page, filters: Record<string, string>) {
  for (const [name, value] of Object.entries(filters)) {
    if (name === 'order' || name === 'limit') await page.selectOption(`#filters [name="${name}"]`, value);
    else await page.fill(`#filters [name="${name}"]`, value);
  }
  await page.click('#filters button[type="submit"]');
}

async function waitForListing(page: Page, keys: string[]) {
  await waitFor(async () => (JSON.stringify(await listed(page)) === JSON.stringify(keys) ? true : null), { timeoutMs: 15_000, what: `the explorer to list ${keys.length} events` });
}

it('asks for the read key, draws the traffic, and ends up showing exactly the counters of /stats', async () => {
  const page = await openWithKey('/dashboard');
  const samples = () => page.evaluate(() => Number(document.body.dataset.samples ?? 0));

  // One request a sample, rising then falling (1 to 10 parts of the plan), so the chart shows traffic over time.
  const steps = 20;
  const weights = Array.from({ length: steps }, (_, i) => 1 + Math.min(i, steps - 1 - i));
  const total = weights.reduce((a, b) => a + b, 0);
  let sent = 0;
  for (let i = 0, cumulative = 0; i < steps; i++) {
    cumulative += weights[i] as number;
    const upTo = Math.round((plan.total * cumulative) / total);
    const before = await samples();
    const response = await fetch(`${runner.url}/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST_KEY}` },
      body: JSON.stringify(eventsBetween(plan, sent, upTo)),
    });
    expect(response.status).toBe(202);
    sent = upTo;
    await page.waitForFunction((n) => Number(document.body.dataset.samples ?? 0) > n, before, { timeout: 15_000 });
  }
  expect(sent).toBe(plan.total);
  await waitFor(async () => ((await (await readStats()).json()) as { pending: number }).pending === 0, { timeoutMs: 60_000, what: 'every event processed' });

  const { stats, view } = await pageMatchesStats(page);
  const expected = expectedCounts(plan);
  expect(stats).toMatchObject({ received: plan.total, unique_processed: expected.unique, duplicate_dropped: expected.duplicates, pending: 0, dead_lettered: 0 });
  expect(view.texts.received).toBe(plan.total.toLocaleString('en-US'));
  expect(view.dependencies).toEqual({ redis: 'up', postgres: 'up' });
  expect(view.queue).toEqual({ messages: 0, batches_in_flight: 0 });
  expect(view.chartPoints).toBeGreaterThanOrEqual(steps);
  expect(pageErrors).toEqual([]);

  // The explorer read its first page before any event was in; Search reads the newest now, for the picture.
  await page.click('#filters button[type="submit"]');
  await waitForListing(page, keysOf(await readEvents('order=desc&limit=20')));
  await page.locator('#events tr.event').first().click();
  await mkdir('test-artifacts', { recursive: true });
  await page.screenshot({ path: 'test-artifacts/dashboard.png', fullPage: true });
  // The README's picture is refreshed on request only, so a test run leaves the tree clean.
  if (process.env.UPDATE_DOCS_SCREENSHOT === '1') await copyFile('test-artifacts/dashboard.png', 'docs/dashboard.png');
  trafficPage = page;
}, 120_000); // twenty one-second samples of traffic, on a machine that may be busy

type Sample = { t: number; received: number; done: number };
const storedSamples = (page: Page) => page.evaluate(() => JSON.parse(localStorage.getItem('aggregator.samples') ?? '[]') as Sample[]);

it('keeps the traffic chart across a reload', async () => {
  const page = trafficPage;
  const before = await storedSamples(page);
  expect(before.length).toBeGreaterThan(20);
  await page.reload();
  // The key stays in the tab, so the page polls at once; its first sample joins the history kept before.
  await page.waitForFunction((n) => Number(document.body.dataset.samples ?? 0) > n, before.length, { timeout: 15_000 });
  const after = await storedSamples(page);
  expect(after.slice(0, before.length)).toEqual(before);
  // Drawn at once: a line through every sample kept, not one point of a fresh start.
  expect((await shown(page)).chartPoints).toBeGreaterThanOrEqual(before.length);
  await page.close();
});

it('explores the stored events: newest first, filtered, paged, the payload formatted', async () => {
  const page = await openWithKey('/dashboard');
  // On opening, the newest stored events, as GET /events?order=desc lists them.
  await waitForListing(page, keysOf(await readEvents('order=desc&limit=20')));

  const since = '2026-11-25T09:10:00+01:00'; // 08:10Z: the events of keys 0 to 599 (one a second from 08:00Z) are left out
  await searchFor(page, { topic: 'payments', source: 'loadtest', since, limit: '20' });
  const first = await readEvents(`topic=payments&source=loadtest&since=${encodeURIComponent(since)}&order=desc&limit=20`);
  expect(first.events).toHaveLength(20);
  await waitForListing(page, keysOf(first));

  await page.click('#next-page');
  const second = await readEvents(`topic=payments&source=loadtest&since=${encodeURIComponent(since)}&order=desc&limit=20&after=${first.next_cursor}`);
  await waitForListing(page, keysOf(second));
  await page.click('#previous-page');
  await waitForListing(page, keysOf(first));

  // A click on an event shows its payload, indented.
  await page.locator('#events tr.event').nth(2).click();
  const payload = await page.evaluate(() => {
    const third = [...document.querySelectorAll('#events tr.event')][2];
    return { hidden: third?.nextElementSibling?.hidden, text: third?.nextElementSibling?.textContent };
  });
  expect(payload).toEqual({ hidden: false, text: JSON.stringify(first.events[2]?.payload, null, 2) });

  expect(pageErrors).toEqual([]);

  // The server's own words when a filter is wrong (the browser logs the 400 it was given, and nothing else).
  await searchFor(page, { since: 'yesterday' });
  await page.locator('#events-problem').waitFor({ state: 'visible', timeout: 15_000 });
  expect(await page.textContent('#events-problem')).toMatch(/^since: since must be an RFC 3339 date-time/);
  expect(pageErrors.splice(0)).toEqual([expect.stringContaining('status of 400')]);
  await page.close();
}, 60_000);

it('works under the gateway path too, with URLs relative to the page', async () => {
  const page = await openWithKey('/function/stats/dashboard');
  const { view } = await pageMatchesStats(page);
  expect(view.counters.received).toBe(plan.total);
  expect(pageErrors).toEqual([]);
  await page.close();
});

/** The cells of a dead letter's row as the page shows them; null while it is not listed. */
const letterRow = (page: Page, id: string) =>
  page.evaluate((letterId) => {
    const row = [...document.querySelectorAll('#letters tr')].find((r) => r.dataset.id === letterId);
    return row ? [...(row.children as unknown as PageElement[])].map((cell) => cell.textContent) : null;
  }, id);

it('lists the dead letters; replay asks for the ingest key, then the letter leaves and its events get stored', async () => {
  const queue = new EventQueue(redis.redis, redis.prefix);
  const letter = await parkLetter(queue, Array.from({ length: 4 }, (_, i) => event({ topic: 'letters', event_id: `parked-${i}` })), 'the store refused it');
  const page = await openWithKey('/dashboard');
  await waitFor(() => letterRow(page, letter.id), { timeoutMs: 15_000, what: 'the parked letter to be listed' });
  expect(await letterRow(page, letter.id)).toEqual([
    letter.at, letter.id, 'the store refused it', '3', '4', 'letters/parked-0, letters/parked-1, letters/parked-2, +1 more', 'ReplayDrop',
  ]);

  // No ingest key yet: the server answers 401 and the page asks for one; a wrong one is refused, and asked for again.
  await page.click(`#letters tr[data-id="${letter.id}"] button[data-action="replay"]`);
  await page.locator('#ingest-key-panel').waitFor({ state: 'visible', timeout: 15_000 });
  await page.screenshot({ path: 'test-artifacts/dashboard-dead-letters.png', fullPage: true });
  expect(await page.textContent('#ingest-key-reason')).toMatch(/^To replay dead letter \w+, enter one of the INGEST_API_KEYS/);
  await page.fill('#ingest-key-input', READ_KEY);
  await page.click('#ingest-key-submit');
  await page.waitForFunction(() => /^That key was refused/.test(document.querySelector('#ingest-key-reason')?.textContent ?? ''), undefined, { timeout: 15_000 });
  expect(await letterRow(page, letter.id)).not.toBeNull();
  await page.fill('#ingest-key-input', INGEST_KEY);
  await page.click('#ingest-key-submit');

  await waitFor(async () => ((await letterRow(page, letter.id)) === null ? true : null), { timeoutMs: 15_000, what: 'the replayed letter to leave the list' });
  expect(await page.textContent('#letters-note')).toContain(`Dead letter ${letter.id} replayed`);
  await waitFor(async () => ((await readEvents('topic=letters&limit=10')).events.length === 4 ? true : null), { timeoutMs: 30_000, what: 'the replayed events to be stored' });
  expect(keysOf(await readEvents('topic=letters&order=asc'))).toEqual([0, 1, 2, 3].map((i) => `letters/parked-${i}`));
  expect((await expectDrainedAndExact(queue, database.db)).dead).toBe(0);

  // Drop, with the key the tab now holds, after the operator confirms: its events stay dead-lettered.
  const dropped = await parkLetter(queue, [event({ topic: 'letters', event_id: 'dropped' })]);
  await waitFor(() => letterRow(page, dropped.id), { timeoutMs: 15_000, what: 'the second letter to be listed' });
  page.once('dialog', (dialog) => void dialog.accept());
  await page.click(`#letters tr[data-id="${dropped.id}"] button[data-action="drop"]`);
  await waitFor(async () => ((await letterRow(page, dropped.id)) === null ? true : null), { timeoutMs: 15_000, what: 'the dropped letter to leave the list' });
  expect(await page.isVisible('#ingest-key-panel')).toBe(false);
  expect((await expectDrainedAndExact(queue, database.db)).dead).toBe(1);
  // Only the 401s of the wrong and the missing ingest key were logged.
  expect(pageErrors).toEqual([]);
  await page.close();
}, 90_000);

it('serves an OpenAPI document that the real /stats answer fits, and started no server of its own', async () => {
  const document = (await (await fetch(`${runner.url}/openapi.json`)).json()) as OpenApiDocument;
  expect(await responseProblems(document, 'get', '/stats', await readStats())).toEqual([]);
  expect(await responseProblems(document, 'get', '/stats', await fetch(`${runner.url}/stats`))).toEqual([]); // the 401
  expect(runner.output()).not.toContain('"msg":"Started');
  expect(await runner.stop()).toBe(0);
});
