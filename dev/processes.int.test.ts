import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFunction } from './processes.ts';

const FIXTURE = 'test/support/fixtures/port-taken-once.ts';

describe('startFunction', () => {
  const dir = mkdtempSync(join(tmpdir(), 'start-function-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts the process again on another port when its port was taken before it could bind it', async () => {
    const marker = join(dir, 'first-port');
    const started = await startFunction(FIXTURE, { MARKER: marker });
    try {
      const firstPort = readFileSync(marker, 'utf8');
      expect(new URL(started.url).port).not.toBe(firstPort);
      expect(await (await fetch(`${started.url}/healthz`)).text()).toBe('ok');
    } finally {
      await started.stop();
    }
  });

  it('says at once that a process exited for any other reason, with what it printed', async () => {
    await expect(startFunction(FIXTURE, { MARKER: join(dir, 'unused'), BROKEN: '1' })).rejects.toThrow(
      new RegExp(`^${FIXTURE} exited early:\\n[^]*broken on purpose`),
    );
  });
});
