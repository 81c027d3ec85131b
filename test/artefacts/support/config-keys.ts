import { CONFIG_VARIABLES, loadConfig, type Config } from '../../../shared/config/config.ts';
import { readText } from './artefacts.ts';

/** Whether the config reads `name`. */
export const isConfigKey = (name: string): boolean => CONFIG_VARIABLES.includes(name);

export const FUNCTIONS = ['ingest', 'process', 'stats'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** What a function connects to, read from its server.ts: `runFunction('ingest', { redis: true, db: false }, ...)`. */
export function functionNeeds(name: FunctionName): { redis: boolean; db: boolean } {
  const source = readText(`functions/${name}/server.ts`);
  const match = /runFunction\(\s*'[^']+',\s*\{\s*redis:\s*(true|false),\s*db:\s*(true|false)\s*\}/.exec(source);
  if (!match) throw new Error(`functions/${name}/server.ts: no runFunction(name, { redis, db }) call found`);
  return { redis: match[1] === 'true', db: match[2] === 'true' };
}

/**
 * What is wrong with the environment a deployment gives a function: a variable the
 * config does not know (a typo that would silently do nothing), a connection URL the
 * function needs but is left to its 127.0.0.1 default, or a value the config rejects.
 * `supplied` lists variables given some other way (secrets), with no value to check here.
 */
export function envProblems(
  name: string,
  env: Record<string, string>,
  supplied: string[] = [],
  needs = functionNeeds(name as FunctionName),
): { problems: string[]; config?: Config } {
  const problems: string[] = [];
  for (const key of [...Object.keys(env), ...supplied]) if (!isConfigKey(key)) problems.push(`${name}: ${key} is not a variable the config reads`);
  const given = new Set([...Object.keys(env).filter((k) => env[k] !== ''), ...supplied]);
  // A cluster's nodes stand in for REDIS_URL, which the config then does not use.
  if (needs.redis && !given.has('REDIS_URL') && !given.has('REDIS_CLUSTER_NODES')) problems.push(`${name}: neither REDIS_URL nor REDIS_CLUSTER_NODES is set`);
  if (needs.db && !given.has('DATABASE_URL')) problems.push(`${name}: DATABASE_URL is not set`);
  try {
    // No secrets folder: the deployment's own files are what is being checked, not this machine's.
    return { problems, config: loadConfig(env, { secretsDir: null }) };
  } catch (error) {
    problems.push(`${name}: ${(error as Error).message}`);
    return { problems };
  }
}
