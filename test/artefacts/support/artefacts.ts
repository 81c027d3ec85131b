import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const readText = (path: string) => readFileSync(join(ROOT, path), 'utf8');
export const exists = (path: string) => existsSync(join(ROOT, path));

/**
 * `${VAR}`, `${VAR:-default}` and `${VAR-default}` as docker compose and faas-cli
 * expand them, from `env` (empty by default: what a fresh checkout gets); `$$` is
 * compose's escape for a `$` the container's shell sees.
 *
 * @example interpolate('${PORT:-8080}', {}) // '8080'
 * @example interpolate('first=$$1', {}) // 'first=$1'
 */
export function interpolate(text: string, env: Record<string, string> = {}): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g, (match, name?: string, op?: string, fallback?: string) => {
    if (match === '$$') return '$';
    const value = env[name!];
    if (op === ':-') return value ? value : (fallback ?? '');
    if (op === '-') return value ?? fallback ?? '';
    return value ?? '';
  });
}

const interpolateValues = (value: unknown, env: Record<string, string>): unknown => {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((item) => interpolateValues(item, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateValues(v, env)]));
  }
  return value;
};

/**
 * A YAML file of the repository with `<<:` merge keys applied and its string
 * values interpolated, as compose does (it parses first, then expands).
 */
export const loadYaml = (path: string, env: Record<string, string> = {}) =>
  interpolateValues(parse(readText(path), { merge: true }), env) as Record<string, any>;

/**
 * An `environment` mapping as the container sees it: numbers and booleans become
 * strings; a key with no value takes the caller's shell value, unset here.
 */
export const environmentOf = (mapping: Record<string, unknown> | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(mapping ?? {}).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, String(v)]),
  );

/**
 * A compose `--env-file` as compose reads the plain ones of this repository: `NAME=value` lines,
 * blank lines and `#` comments. Anything else (quotes, `export`, a line without `=`) is refused
 * rather than read otherwise than compose would.
 *
 * @example loadEnvFile('infra/compose-cluster.env').COMPOSE_PROFILES // 'cluster'
 */
export function loadEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [i, line] of readText(path).split('\n').entries()) {
    if (/^\s*(#|$)/.test(line)) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=([^'"\s#][^'"#]*|)$/.exec(line);
    if (!match) throw new Error(`${path}:${i + 1}: not a plain NAME=value line`);
    env[match[1]!] = match[2]!;
  }
  return env;
}

/**
 * The services compose runs with these profiles active (`--profile`, `COMPOSE_PROFILES`):
 * those with no `profiles`, and those with one of them.
 */
export const activeServices = (compose: Record<string, any>, profiles: string[]): string[] =>
  Object.entries(compose.services as Record<string, { profiles?: string[] }>)
    .filter(([, service]) => !service.profiles || service.profiles.some((p) => profiles.includes(p)))
    .map(([name]) => name);

/** Every document of a multi-document YAML file. */
export const loadYamlDocuments = (path: string) =>
  parseAllDocuments(readText(path)).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as Record<string, any>;
  });

/** The entry points tsconfig.build.json compiles (it is JSON with whole-line comments). */
export function compiledEntries(): string[] {
  const text = readText('tsconfig.build.json').split('\n').filter((line) => !/^\s*\/\//.test(line)).join('\n');
  return (JSON.parse(text) as { files: string[] }).files;
}

/**
 * The source file a path inside the image's dist/ is compiled from, checked to be
 * one tsconfig.build.json compiles: `dist/functions/ingest/server.js` -> `functions/ingest/server.ts`.
 */
export function sourceOfCompiled(distPath: string): string {
  const match = /^(?:\/app\/)?dist\/(.+)\.js$/.exec(distPath);
  if (!match) throw new Error(`${distPath} is not a path under dist/`);
  const source = `${match[1]}.ts`;
  if (!exists(source)) throw new Error(`${distPath}: no source ${source}`);
  if (!compiledEntries().includes(source)) throw new Error(`${source} is not an entry point of tsconfig.build.json`);
  return source;
}

/** The stages of a Dockerfile, each with its instructions (continuation lines joined, comments dropped). */
export function dockerfileStages(path: string) {
  const lines = readText(path).replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages: Array<{ name: string | undefined; from: string; instructions: Array<{ op: string; args: string }> }> = [];
  for (const line of lines) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [, from = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args) ?? [];
      stages.push({ name, from, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}
