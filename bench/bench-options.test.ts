import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../shared/cli/command-line.ts';
import { DEFAULT_OPTIONS, parseBenchArgs } from './bench-options.ts';

// A PATH holding an executable named wrk: what the defaults assume is installed.
const withWrk = { PATH: mkdtempSync(join(tmpdir(), 'bench-path-')) };
writeFileSync(join(withWrk.PATH, 'wrk'), '#!/bin/sh\n', { mode: 0o755 });

describe('npm run bench options', () => {
  it('defaults to the issue\'s run: 200,000 events, 30% duplicates, batches of 100, pollers 1, 2, 4, no sharding stage', () => {
    expect(parseBenchArgs([], withWrk)).toEqual(DEFAULT_OPTIONS);
    expect(DEFAULT_OPTIONS).toMatchObject({ events: 200_000, duplicates: 0.3, batch: 100, pollers: [1, 2, 4], shards: [] });
  });

  it('reads every option it documents', () => {
    expect(parseBenchArgs(['--events', '1000000', '--duplicates', '0.5', '--batch', '250', '--publishers', '16', '--pollers', '1,3',
      '--repeats', '3', '--cpu-prof', '--compiled', '--start', '--publisher', 'node', '--out', '/tmp/b',
      '--shards', '1,3', '--shard-requests', '500', '--shard-batches', '20', '--idle-seconds', '2'])).toMatchObject({
      events: 1_000_000, duplicates: 0.5, batch: 250, publishers: 16, pollers: [1, 3], repeats: 3, cpuProf: true, compiled: true,
      start: true, publisher: 'node', out: '/tmp/b', shards: [1, 3], shardRequests: 500, shardBatches: 20, idleSeconds: 2,
    });
  });

  it('says how to get wrk when the npm start stage would need it and it is missing', () => {
    const noWrk = { PATH: '/nonexistent' };
    expect(() => parseBenchArgs(['--start'], noWrk)).toThrow(UsageError);
    expect(() => parseBenchArgs(['--start'], noWrk)).toThrow('apt-get install -y wrk');
    expect(parseBenchArgs(['--start', '--publisher', 'node'], noWrk)).toMatchObject({ start: true, publisher: 'node' });
    expect(() => parseBenchArgs(['--publisher', 'wrk'], noWrk)).toThrow('apt-get install -y wrk');
  });

  it('publishes with wrk when it is installed, and falls back to Node without it only where nothing asked for wrk', () => {
    expect(parseBenchArgs([], { PATH: '/nonexistent' })).toMatchObject({ start: false, publisher: 'node' });
    expect(parseBenchArgs([], withWrk)).toMatchObject({ publisher: 'wrk' });
    expect(parseBenchArgs(['--publisher', 'node'], withWrk)).toMatchObject({ publisher: 'node' });
  });

  it.each([
    [['--events', '0'], '--events'],
    [['--events', '12.5'], '--events'],
    [['--duplicates', '1'], '--duplicates'],
    [['--batch', '1001'], '--batch'],
    [['--pollers', '1,1'], '--pollers'],
    [['--pollers', '0'], '--pollers'],
    [['--frobnicate'], 'frobnicate'],
    [['--publisher', 'curl'], '--publisher'],
    [['--shards', '3'], '--shards'],
    [['--shards', '1,1'], '--shards'],
    [['--shards', '1,257'], '--shards'],
    [['--idle-seconds', '0'], '--idle-seconds'],
  ])('refuses %j, naming it', (argv, named) => {
    expect(() => parseBenchArgs(argv)).toThrow(UsageError);
    expect(() => parseBenchArgs(argv)).toThrow(named);
  });
});
