import { afterEach, expect, it } from 'vitest';
import { startFunction, type FunctionProcess } from '../../dev/processes.ts';
import { waitFor } from '../../dev/wait.ts';

let fn: FunctionProcess | undefined;
afterEach(async () => {
  await fn?.kill();
});

it('on SIGTERM closes what the function brought up only after the requests in flight are answered', async () => {
  fn = await startFunction('test/support/fixtures/slow-function.ts', { SHUTDOWN_TIMEOUT_MS: '10000' });
  const answer = fetch(`${fn.url}/slow`).then((r) => r.text());
  await waitFor(() => fn!.output().includes('Slow request started'), { what: 'the request to be in flight' });
  fn.child.kill('SIGTERM');
  expect(await answer).toBe('resources still open');
  expect(await fn.exited).toBe(0);
  expect(fn.output()).toContain('Stopped');
});
