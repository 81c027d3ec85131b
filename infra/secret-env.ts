import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The variable a secret file stands for: OpenFaaS secret names are lower-case
 * DNS labels, so `database-url` carries DATABASE_URL.
 *
 * @example variableForSecret('ingest-api-keys') // 'INGEST_API_KEYS'
 */
export const variableForSecret = (name: string) => name.toUpperCase().replaceAll('-', '_');

/**
 * The environment the secret files in `dir` supply: one variable per file, the
 * file's content (trimmed) as its value. A variable already set in `env` wins,
 * so an operator can override a secret; a missing folder supplies nothing.
 *
 * @example Object.assign(process.env, secretEnv('/var/openfaas/secrets', process.env))
 */
export function secretEnv(dir: string, env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  const supplied: Record<string, string> = {};
  for (const name of names) {
    // Kubernetes mounts secrets through `..data` links; they are not secrets themselves.
    if (name.startsWith('.')) continue;
    const variable = variableForSecret(name);
    if (!/^[A-Z][A-Z0-9_]*$/.test(variable) || (env[variable] ?? '') !== '') continue;
    supplied[variable] = readFileSync(join(dir, name), 'utf8').trim();
  }
  return supplied;
}
