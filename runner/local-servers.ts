import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

// The servers `npm start` started are found by the other commands (`npm run dlq`, `npm run chaos`,
// psql) through one file in the data directory, in `KEY=value` lines: a shell can source it and
// `node --env-file` reads it. It holds the embedded PostgreSQL's password, so only its owner reads it.
const FILE = 'servers.env';

type Urls = { DATABASE_URL?: string; REDIS_URL?: string };

/** Where the file is: in DATA_DIR (default `.data` in the working directory). */
export const localServersFile = (env: { DATA_DIR?: string | undefined }) => join(resolve(env.DATA_DIR || '.data'), FILE);

/**
 * Writes the URLs of the servers just started; the returned function removes the file when they stop.
 *
 * @example const forget = await publishLocalServers(env, { REDIS_URL: redis.url })
 */
export async function publishLocalServers(env: { DATA_DIR?: string | undefined }, urls: Urls): Promise<() => Promise<void>> {
  const file = localServersFile(env);
  const lines = Object.entries(urls).map(([name, url]) => `${name}=${url}\n`);
  await writeFile(file, lines.join(''), { mode: 0o600 });
  return () => rm(file, { force: true });
}

/**
 * The URLs a running `npm start` published, for those the environment does not set: a tool run
 * beside it then reaches the same servers. Empty when no runner started any.
 *
 * @example Object.assign(process.env, localServers(process.env))
 */
export function localServers(env: Record<string, string | undefined>): Urls {
  let text: string;
  try {
    text = readFileSync(localServersFile(env), 'utf8');
  } catch {
    return {};
  }
  const found: Urls = {};
  for (const line of text.split('\n')) {
    const [, name, value] = /^(DATABASE_URL|REDIS_URL)=(.+)$/.exec(line) ?? [];
    if (name && value && !env[name]) found[name as keyof Urls] = value;
  }
  return found;
}
