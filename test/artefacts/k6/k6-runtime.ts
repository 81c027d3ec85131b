import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { createSyncHttp, sleepSync, type SyncResponse } from './sync-http.ts';

// Just enough of k6's runtime to run a script's lifecycle once, for real, against
// a real HTTP server: its modules (k6, k6/http, k6/metrics, k6/execution) as stubs
// that record what the script does, and a context with k6's globals and no Node
// ones (no process, require, Buffer, setTimeout), so a script that leans on Node fails here.

type Tags = Record<string, string>;
export type CheckRecord = { name: string; ok: boolean; tags: Tags };
export type RequestRecord = { method: string; url: string; status: number; durationMs: number; tags: Tags; failed: boolean };
export type K6Run = {
  options: Record<string, any>;
  setupData: unknown;
  checks: CheckRecord[];
  requests: RequestRecord[];
  counters: Record<string, number>;
  thresholds: Record<string, boolean>;
  summary: Record<string, string>;
  console: string[];
};

const canonical = (name: string) => name.split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1).toLowerCase()).join('-');
const BUILTIN_METRICS = ['checks', 'http_reqs', 'http_req_failed', 'http_req_duration', 'iterations', 'dropped_iterations', 'data_sent', 'data_received'];

function percentile(values: number[], p: number) {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Loads `scriptPath` as k6 would and runs setup, every iteration of every scenario, teardown and handleSummary. */
export async function runK6Script(scriptPath: string, env: Record<string, string>, maxIterations = 500): Promise<K6Run> {
  const http = createSyncHttp();
  const checks: CheckRecord[] = [];
  const requests: RequestRecord[] = [];
  const counters: Record<string, number> = {};
  const customMetrics = new Set<string>();
  const consoleLines: string[] = [];
  let expected: Set<number> | null = null;
  const scenario = { name: '', iterationInTest: 0 };

  function send(method: string, url: string, body: string | undefined, params: { headers?: Tags; tags?: Tags } = {}) {
    const answer: SyncResponse = http.request({ method, url, headers: params.headers ?? {}, ...(body === undefined ? {} : { body }) });
    const failed = expected ? !expected.has(answer.status) : answer.status === 0 || answer.status >= 400;
    requests.push({ method, url, status: answer.status, durationMs: answer.durationMs, tags: params.tags ?? {}, failed });
    const headers = Object.fromEntries(Object.entries(answer.headers).map(([k, v]) => [canonical(k), v]));
    return { status: answer.status, body: answer.body, headers, error: answer.error, timings: { duration: answer.durationMs }, json: () => JSON.parse(answer.body) };
  }

  class Metric {
    constructor(readonly name: string) {
      customMetrics.add(name);
      counters[name] = 0;
    }
    add(value: number) {
      counters[this.name]! += value;
    }
  }

  const stubs: Record<string, Record<string, unknown>> = {
    k6: {
      check(value: unknown, sets: Record<string, (v: unknown) => boolean>, tags: Tags = {}) {
        let all = true;
        for (const [name, test] of Object.entries(sets)) {
          const ok = Boolean(test(value));
          checks.push({ name, ok, tags });
          all &&= ok;
        }
        return all;
      },
      sleep: (seconds: number) => sleepSync(seconds * 1000),
      group: (_name: string, fn: () => unknown) => fn(),
      fail: (message: string) => {
        throw new Error(message);
      },
    },
    'k6/http': {},
    'k6/metrics': { Counter: Metric, Trend: Metric, Rate: Metric, Gauge: Metric },
    'k6/execution': {
      default: {
        scenario,
        vu: { idInTest: 1, iterationInScenario: 0 },
        test: { abort: (why: string) => { throw new Error(`test.abort(${why})`); } },
      },
    },
  };
  const httpModule = {
    get: (url: string, params?: { headers?: Tags; tags?: Tags }) => send('GET', url, undefined, params),
    post: (url: string, body: string, params?: { headers?: Tags; tags?: Tags }) => send('POST', url, body, params),
    expectedStatuses: (...codes: number[]) => ({ codes }),
    setResponseCallback: (callback: { codes: number[] }) => {
      expected = new Set(callback.codes);
    },
  };
  stubs['k6/http'] = { ...httpModule, default: httpModule };

  const say = (...parts: unknown[]) => {
    const line = parts.map(String).join(' ');
    consoleLines.push(line);
    process.stderr.write(`${line}\n`);
  };
  const context = vm.createContext({ __ENV: { ...env }, __VU: 1, __ITER: 0, console: { log: say, info: say, warn: say, error: say, debug: say } });

  const modules = new Map<string, vm.Module>();
  async function link(specifier: string, referencing: vm.Module): Promise<vm.Module> {
    const stub = stubs[specifier];
    if (stub) {
      const key = `k6:${specifier}`;
      if (!modules.has(key)) {
        modules.set(key, new vm.SyntheticModule(Object.keys(stub), function (this: vm.SyntheticModule) {
          for (const [name, value] of Object.entries(stub)) this.setExport(name, value);
        }, { context, identifier: key }));
      }
      return modules.get(key)!;
    }
    if (specifier.startsWith('k6')) throw new Error(`the k6 stub has no module ${specifier}`);
    if (!specifier.startsWith('.')) throw new Error(`k6 cannot import "${specifier}" (only relative paths and k6 modules here)`);
    return load(new URL(specifier, referencing.identifier).href);
  }
  function load(url: string): vm.Module {
    if (!modules.has(url)) {
      modules.set(url, new vm.SourceTextModule(readFileSync(new URL(url), 'utf8'), { context, identifier: url }));
    }
    return modules.get(url)!;
  }

  try {
    const main = load(pathToFileURL(scriptPath).href) as vm.SourceTextModule;
    await main.link(link);
    await main.evaluate();
    const script = main.namespace as Record<string, any>;
    const options = JSON.parse(JSON.stringify(script.options ?? {}));

    const setupData = script.setup ? JSON.parse(JSON.stringify(script.setup() ?? null)) : undefined;
    for (const [name, s] of Object.entries(options.scenarios ?? { default: { iterations: 1 } }) as Array<[string, any]>) {
      const exec = script[s.exec ?? 'default'];
      if (typeof exec !== 'function') throw new Error(`scenario ${name}: the script exports no function ${s.exec ?? 'default'}`);
      if (s.iterations > maxIterations) throw new Error(`scenario ${name}: ${s.iterations} iterations is more than this test runs`);
      scenario.name = name;
      for (let i = 0; i < s.iterations; i++) {
        scenario.iterationInTest = i;
        exec(setupData);
      }
    }
    if (script.teardown) script.teardown(setupData);

    // The summary data k6 would hand to handleSummary, for the metrics the scripts read.
    const publish = requests.filter((r) => r.tags.name === 'publish').map((r) => r.durationMs);
    const rate = (list: Array<{ ok: boolean }>) => (list.length === 0 ? 0 : list.filter((c) => c.ok).length / list.length);
    const metrics: Record<string, { values: Record<string, number> }> = {
      http_reqs: { values: { count: requests.length } },
      http_req_failed: { values: { rate: requests.length === 0 ? 0 : requests.filter((r) => r.failed).length / requests.length } },
      http_req_duration: { values: { 'p(95)': percentile(requests.map((r) => r.durationMs), 95) } },
      'http_req_duration{name:publish}': { values: { 'p(95)': percentile(publish, 95) } },
      checks: { values: { rate: rate(checks) } },
      'checks{check:stats}': { values: { rate: rate(checks.filter((c) => c.tags.check === 'stats')) } },
      ...Object.fromEntries(Object.entries(counters).map(([name, count]) => [name, { values: { count } }])),
    };

    // Thresholds, judged as k6 would for the expressions these scripts use.
    const thresholds: Record<string, boolean> = {};
    for (const [key, expressions] of Object.entries(options.thresholds ?? {}) as Array<[string, string[]]>) {
      const base = key.replace(/\{.*\}$/, '');
      if (!BUILTIN_METRICS.includes(base) && !customMetrics.has(base)) throw new Error(`threshold on unknown metric ${key}`);
      thresholds[key] = expressions.every((expression) => {
        const match = /^(count|rate|p\(\d+\))\s*(<=|>=|==|<|>)\s*([\d.]+)$/.exec(expression);
        if (!match) throw new Error(`threshold expression this runner cannot judge: ${key}: ${expression}`);
        const observed = metrics[key]?.values[match[1]!] ?? 0;
        const limit = Number(match[3]);
        return { '<': observed < limit, '<=': observed <= limit, '==': observed === limit, '>': observed > limit, '>=': observed >= limit }[match[2]!]!;
      });
    }
    const summary = script.handleSummary ? (script.handleSummary({ metrics, setup_data: setupData }) as Record<string, string>) : {};
    return { options, setupData, checks, requests, counters, thresholds, summary: { ...summary }, console: consoleLines };
  } finally {
    await http.close();
  }
}
