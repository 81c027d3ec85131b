import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, secretNameOf } from '../../shared/config/config.ts';
import { environmentOf, loadYaml } from './support/artefacts.ts';
import { envProblems, FUNCTIONS, type FunctionName } from './support/config-keys.ts';

const stack = loadYaml('stack.yml');
const functions = stack.functions as Record<string, any>;
const secretVariables = (name: FunctionName) => (functions[name].secrets as string[]).map((secret) => CONFIG_VARIABLES.find((variable) => secretNameOf(variable) === secret) ?? secret);

describe('stack.yml (OpenFaaS)', () => {
  it('deploys the three functions through an openfaas provider', () => {
    expect(stack.provider.name).toBe('openfaas');
    expect(new URL(stack.provider.gateway).port).toBe('8080');
    expect(Object.keys(functions).sort()).toEqual([...FUNCTIONS].sort());
  });

  describe.each(FUNCTIONS)('%s', (name: FunctionName) => {
    const fn = functions[name];

    it('has an image of its own, built from infra/Dockerfile rather than by faas-cli', () => {
      expect(fn.image).toMatch(new RegExp(`/aggregator-${name}:`));
      expect(fn.skip_build).toBe(true);
    });

    it('gets only variables the config reads, its connections as secret files', () => {
      const { problems, config } = envProblems(name, environmentOf(fn.environment), secretVariables(name));
      expect(problems).toEqual([]);
      // OpenFaaS sends traffic to port 8080: the function must listen there by default.
      expect(config!.port).toBe(8080);
      expect(Object.keys(fn.environment ?? {})).not.toContain('REDIS_URL');
      expect(Object.keys(fn.environment ?? {})).not.toContain('DATABASE_URL');
    });

    it('is probed on the paths the function serves, and has resource bounds', () => {
      expect(fn.annotations['com.openfaas.health.http.path']).toBe('/healthz');
      expect(fn.annotations['com.openfaas.ready.http.path']).toBe('/readyz');
      for (const bound of [fn.requests, fn.limits]) {
        expect(bound.cpu).toMatch(/^\d+m$/);
        expect(bound.memory).toMatch(/^\d+Mi$/);
      }
    });
  });

  it('shares one queue prefix between the functions', () => {
    const prefixes = FUNCTIONS.map((name) => envProblems(name, environmentOf(functions[name].environment), secretVariables(name)).config!.queuePrefix);
    expect(new Set(prefixes).size).toBe(1);
  });

  it('guards POST / on process with the ingest keys, as ingest itself', () => {
    expect(functions.ingest.secrets).toContain('ingest-api-keys');
    expect(functions.process.secrets).toContain('ingest-api-keys');
  });

  it('never scales the poller to zero', () => {
    const labels = functions.process.labels;
    expect(labels['com.openfaas.scale.zero']).toBe('false');
    expect(Number(labels['com.openfaas.scale.min'])).toBeGreaterThanOrEqual(1);
    expect(Number(labels['com.openfaas.scale.max'])).toBeGreaterThanOrEqual(Number(labels['com.openfaas.scale.min']));
  });
});
