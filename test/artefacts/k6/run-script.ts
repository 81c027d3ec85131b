import { runK6Script } from './k6-runtime.ts';

// Child-process entry (vm modules need `node --experimental-vm-modules`):
//   node --experimental-vm-modules --import tsx run-script.ts <script.js> '<env as JSON>'
// prints the run as JSON on stdout; the script's console goes to stderr.
const [script, env = '{}'] = process.argv.slice(2);
if (!script) throw new Error('usage: run-script.ts <script.js> [env JSON]');
const run = await runK6Script(script, JSON.parse(env) as Record<string, string>);
process.stdout.write(JSON.stringify(run));
