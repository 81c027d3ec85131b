import { expect, it } from 'vitest';
import { runChaos } from '../../dev/chaos-run.ts';

// The short form of `npm run chaos`: a few kills of each kind, then nothing lost and nothing counted twice.
it('loses nothing and counts nothing twice while workers, ingest and Redis are killed', async () => {
  const report = await runChaos({ seconds: 12, publishers: 4, batch: 50, processes: 2, killEveryMs: 1_000, seed: 7 }, () => undefined);
  console.log(`chaos: ${report.eventsAccepted} events, ${report.workerKills} worker kills, ${report.ingestKills} ingest kills, ${report.redisRestarts} Redis restarts`);
  expect(report.eventsAccepted).toBeGreaterThan(0);
  expect(report).toMatchObject({ workerKills: expect.any(Number), ingestKills: expect.any(Number), redisRestarts: expect.any(Number) });
  expect(Math.min(report.workerKills, report.ingestKills, report.redisRestarts)).toBeGreaterThanOrEqual(1);
  expect(report).toMatchObject({ lost: 0, doubleCounted: 0, invariantOff: 0 });
  expect(report.final.received).toBeGreaterThanOrEqual(report.eventsAccepted);
}, 240_000);
