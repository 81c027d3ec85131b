import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bundledChromium from '@sparticuz/chromium';
import { chromium, type Browser } from 'playwright-core';
import { waitFor } from '../../dev/wait.ts';

// Browser tests run a Chromium that ships inside an npm package (@sparticuz/chromium), so a fresh
// `npm install` is all a machine needs: nothing from apt, no download at run time. Its binary is
// unpacked into the temp folder at the first launch and reused after. `CHROMIUM_PATH` points at
// another Chromium instead (a system one, or a newer build when debugging a page).

// Keep a test browser from calling home: no updates, sync or background fetches.
const QUIET_ARGS = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const HEADLESS_ARGS = ['--headless', '--no-sandbox', '--disable-gpu'];

// The package unpacks into one folder of the temp dir and checks only that the binary exists: two test
// files launching at once on a fresh machine would unpack over each other. One at a time, then.
const UNPACK_LOCK = join(tmpdir(), 'event-aggregator-chromium.lock');

function takeUnpackLock(): boolean {
  try {
    mkdirSync(UNPACK_LOCK);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // A holder killed mid-unpack leaves the lock behind; unpacking takes seconds, not minutes.
    if (Date.now() - statSync(UNPACK_LOCK).mtimeMs > 120_000) rmdirSync(UNPACK_LOCK);
    return false;
  }
}

async function bundledExecutable(): Promise<string> {
  await waitFor(takeUnpackLock, { timeoutMs: 180_000, intervalMs: 200, what: 'the Chromium unpack lock' });
  try {
    return await bundledChromium.executablePath();
  } finally {
    rmdirSync(UNPACK_LOCK);
  }
}

/**
 * Launches headless Chromium for a test; close it in `afterAll`.
 * @example const browser = await launchBrowser(); const page = await browser.newPage();
 */
export async function launchBrowser(): Promise<Browser> {
  const override = process.env.CHROMIUM_PATH;
  if (override) return chromium.launch({ executablePath: override, args: [...HEADLESS_ARGS, ...QUIET_ARGS] });
  // No WebGL needed, and without it the package skips unpacking its software GPU.
  bundledChromium.setGraphicsMode = false;
  // Not the package's own args, made for AWS Lambda: `--single-process` ends the whole browser when a page
  // closes, and `--disable-web-security` would hide what a page's Content-Security-Policy refuses.
  return chromium.launch({ executablePath: await bundledExecutable(), args: [...HEADLESS_ARGS, ...QUIET_ARGS] });
}
