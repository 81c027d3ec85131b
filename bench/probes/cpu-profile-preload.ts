// Loaded with `--import` into a spawned function when the bench runs with
// --cpu-prof: Node 20 refuses --cpu-prof in NODE_OPTIONS, so the profiler is
// started through the inspector instead, and the profile written when the
// process exits (the functions exit through process.exit on SIGTERM).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const target = process.env.BENCH_CPU_PROFILE;
if (target) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  // An in-process inspector session answers synchronously, so this completes inside 'exit'.
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(target, JSON.stringify(result.profile));
    });
  });
}
