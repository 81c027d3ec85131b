// `npm run dlq -- list | replay | drop`: look at dead letters, put them back in the queue, or delete them.
// Reaches the Redis of REDIS_URL (or the cluster of REDIS_CLUSTER_NODES) under QUEUE_PREFIX, as the functions do.
import { localServers } from '../runner/local-servers.ts';
import { parseOptions, readCommandLine, UsageError } from '../shared/cli/command-line.ts';
import { loadConfigOrExit } from '../shared/config/config.ts';
import { EventQueue, type ParkedLetter } from '../shared/queue/queue.ts';
import { createRedisClient, readyWithin, redisTarget } from '../shared/queue/redis.ts';

const USAGE = `usage: npm run dlq -- <command> [positions...] [--all]
  list                 the dead letters, newest first, numbered from 1
  replay 1 3 | --all   put them back at the head of the line (claimed next)
  drop 2 | --all       delete them for good (their events stay counted in dead_lettered)`;

const { positionals, values } = readCommandLine(USAGE, (args) => {
  const line = parseOptions({ args, allowPositionals: true, options: { all: { type: 'boolean', default: false } } });
  if (!['list', 'replay', 'drop'].includes(line.positionals[0] ?? '')) throw new UsageError(line.positionals[0] ? `unknown command: ${line.positionals[0]}` : 'say which command');
  return line;
});
const [command, ...positions] = positionals;

// The Redis a running `npm start` started, unless REDIS_URL names one.
const config = loadConfigOrExit({ ...process.env, ...localServers(process.env) });
const redis = createRedisClient(config, 'dlq');
redis.on('error', () => undefined); // an unreachable Redis is reported below, in one line
if (!(await readyWithin(redis, 5_000))) {
  console.error(`Redis does not answer at ${redisTarget(config)}`);
  process.exit(1);
}
const queue = new EventQueue(redis, config.queuePrefix);

function choose(letters: ParkedLetter[]): ParkedLetter[] {
  if (values.all) return letters;
  if (positions.length === 0) throw new Error(`say which: positions from "list" (1..${letters.length}) or --all`);
  return positions.map((p) => {
    const letter = letters[Number(p) - 1];
    if (!/^\d+$/.test(p) || !letter) throw new Error(`no dead letter at position ${p} (there are ${letters.length})`);
    return letter;
  });
}

try {
  const letters = await queue.deadLetters();
  if (command === 'list') {
    letters.forEach((l, i) => console.log(JSON.stringify({ position: i + 1, at: l.at, reason: l.reason, attempts: l.attempts, events: l.events, message: l.raw.slice(0, 300) })));
    const counters = await queue.counters();
    console.error(`${letters.length} dead letters; dead_lettered = ${counters.deadLettered} events`);
  } else {
    let done = 0;
    for (const letter of choose(letters)) if (await (command === 'replay' ? queue.replay(letter) : queue.drop(letter))) done++;
    console.error(`${command === 'replay' ? 'replayed' : 'dropped'} ${done} dead letters`);
  }
} catch (error) {
  console.error(String((error as Error).message));
  process.exitCode = 1;
} finally {
  redis.disconnect();
}
