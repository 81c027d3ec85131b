// `npm run dlq -- list | replay | drop`: look at dead letters, put them back in the queue, or delete them.
// Reaches the Redis of REDIS_URL (or the cluster of REDIS_CLUSTER_NODES) under QUEUE_PREFIX, as the functions do,
// and every queue shard they read (QUEUE_SHARDS, QUEUE_SHARDS_DRAIN): a letter's id names it in any shard.
import { localServers } from '../runner/local-servers.ts';
import { parseOptions, readCommandLine, UsageError } from '../shared/cli/command-line.ts';
import { loadConfigOrExit } from '../shared/config/config.ts';
import { viewOf } from '../shared/queue/dead-letter-view.ts';
import { queueFromConfig, type ParkedLetter } from '../shared/queue/queue.ts';
import { createRedisClient, readyWithin, redisTarget } from '../shared/queue/redis.ts';

const USAGE = `usage: npm run dlq -- <command> [ids...] [--all]
  list                   the dead letters, newest first, each with its id
  replay <id>... | --all put them back at the head of the line (claimed next)
  drop <id>... | --all   delete them for good (their events stay counted in dead_lettered)`;

const { positionals, values } = readCommandLine(USAGE, (args) => {
  const line = parseOptions({ args, allowPositionals: true, options: { all: { type: 'boolean', default: false } } });
  if (!['list', 'replay', 'drop'].includes(line.positionals[0] ?? '')) throw new UsageError(line.positionals[0] ? `unknown command: ${line.positionals[0]}` : 'say which command');
  return line;
});
const [command, ...ids] = positionals;

// The Redis a running `npm start` started, unless REDIS_URL names one.
const config = loadConfigOrExit({ ...process.env, ...localServers(process.env) });
const redis = createRedisClient(config, 'dlq');
redis.on('error', () => undefined); // an unreachable Redis is reported below, in one line
if (!(await readyWithin(redis, 5_000))) {
  console.error(`Redis does not answer at ${redisTarget(config)}`);
  process.exit(1);
}
const queue = queueFromConfig(redis, config);

/** The letters named by their ids (stable, unlike positions, while letters come and go), or all of them. */
function choose(letters: ParkedLetter[]): ParkedLetter[] {
  if (values.all) return letters;
  if (ids.length === 0) throw new Error('say which: ids from "list", or --all');
  const byId = new Map(letters.map((l) => [l.id, l]));
  const unknown = ids.filter((id) => !byId.has(id));
  if (unknown.length > 0) throw new Error(`no dead letter with id ${unknown.join(', ')} (see "list")`);
  return ids.map((id) => byId.get(id) as ParkedLetter);
}

/** A letter as an operator reads it: id, when, size, attempts, reason, and the message's first keys. */
function describe(letter: ParkedLetter): string {
  const view = viewOf(letter);
  const more = view.events > view.first_keys.length && view.unreadable === null ? `, +${view.events - view.first_keys.length} more` : '';
  const keys = view.unreadable === null
    ? view.first_keys.map((k) => `${k.topic}/${k.event_id}`).join(', ') + more
    : `unreadable: ${JSON.stringify(letter.raw.slice(0, 80))}`;
  const batch = view.batch_ids.length === 0 ? 'no batch_id' : `batch_id ${view.batch_ids.join(', ')}`;
  return `${view.id}  ${view.at}  ${view.events} events  ${view.attempts} attempts  ${view.reason}\n    ${batch}  keys: ${keys}`;
}

try {
  const letters = await queue.deadLetters();
  if (command === 'list') {
    for (const letter of letters) console.log(describe(letter));
    const counters = await queue.counters();
    console.log(`${letters.length} dead letters; dead_lettered = ${counters.deadLettered} events`);
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
