import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { queueKeys, shardPrefix } from '../../shared/queue/queue-keys.ts';
import { ROOT, loadYamlDocuments, sourceOfCompiled } from './support/artefacts.ts';
import { envProblems, FUNCTIONS, type FunctionName } from './support/config-keys.ts';
import { kustomizeResources } from './support/kustomize.ts';

const files = readdirSync(join(ROOT, 'infra/k8s')).filter((f) => f.endsWith('.yaml'));
const kustomization = loadYamlDocuments('infra/k8s/kustomization.yaml')[0]!;
const resources = (kustomization.resources as string[]).flatMap((file) => loadYamlDocuments(`infra/k8s/${file}`));
const find = (kind: string, name: string) => {
  const found = resources.find((r) => r.kind === kind && r.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const configMapsOf = (all: Record<string, any>[]) => new Map(all.filter((r) => r.kind === 'ConfigMap').map((r) => [r.metadata.name, r.data as Record<string, string>]));
const configMaps = configMapsOf(resources);

type Container = { image: string; args: string[]; env?: any[]; envFrom?: any[]; readinessProbe?: any; livenessProbe?: any; ports?: any[] };

/** A container's environment: literal values, ConfigMap values, and the names of variables taken from Secrets. */
function containerEnv(container: Container, maps = configMaps) {
  const values: Record<string, string> = {};
  const fromSecrets: string[] = [];
  for (const source of container.envFrom ?? []) {
    const data = maps.get(source.configMapRef?.name);
    if (!data) throw new Error(`envFrom names an unknown ConfigMap ${JSON.stringify(source)}`);
    Object.assign(values, data);
  }
  for (const variable of container.env ?? []) {
    if (variable.valueFrom?.secretKeyRef) fromSecrets.push(variable.name);
    else values[variable.name] = String(variable.value);
  }
  return { values, fromSecrets };
}

const knative = (name: FunctionName) => find('Service', name).spec.template;
const podOf = (resource: any) => resource.spec.template.spec;

describe('Kubernetes manifests (infra/k8s)', () => {
  it('kustomization lists every manifest, and each parses', () => {
    expect([...(kustomization.resources as string[]), 'kustomization.yaml'].sort()).toEqual(files.sort());
    expect(resources.length).toBeGreaterThanOrEqual(8);
  });

  it('runs one image everywhere, each workload on a compiled entry point', () => {
    const containers: Container[] = resources
      .filter((r) => ['Deployment', 'Job'].includes(r.kind) || r.apiVersion === 'serving.knative.dev/v1')
      .flatMap((r) => podOf(r).containers);
    expect(new Set(containers.map((c) => c.image.split(':')[0])).size).toBe(1);
    expect(kustomization.images[0].name).toBe(containers[0]!.image.split(':')[0]);
    for (const c of containers) sourceOfCompiled(c.args[0]!);
  });

  describe.each(['ingest', 'stats'] as const)('Knative Service %s', (name) => {
    const template = knative(name);
    const container: Container = template.spec.containers[0];

    it('is a Knative Service running its function', () => {
      expect(find('Service', name).apiVersion).toBe('serving.knative.dev/v1');
      expect(sourceOfCompiled(container.args[0]!)).toBe(`functions/${name}/server.ts`);
      expect(container.ports![0].containerPort).toBe(8080);
    });

    it('sets only variables the config reads, leaves PORT to Knative, and gets its connections', () => {
      const { values, fromSecrets } = containerEnv(container);
      expect(envProblems(name, values, fromSecrets).problems).toEqual([]);
      expect([...Object.keys(values), ...fromSecrets]).not.toContain('PORT');
    });

    it('is probed on /readyz and /healthz and keeps a warm replica', () => {
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
      expect(Number(template.metadata.annotations['autoscaling.knative.dev/min-scale'])).toBeGreaterThanOrEqual(1);
    });
  });

  describe('the poller', () => {
    const deployment = find('Deployment', 'process');
    const pod = podOf(deployment);
    const container: Container = pod.containers[0];
    const { values, fromSecrets } = containerEnv(container);
    const { problems, config } = envProblems('process', values, fromSecrets);
    const scaler = find('ScaledObject', 'process');

    it('is a Deployment running the process function with a valid environment', () => {
      expect(sourceOfCompiled(container.args[0]!)).toBe('functions/process/server.ts');
      expect(problems).toEqual([]);
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    });

    it('has longer to stop than its own shutdown deadline, so a batch can finish', () => {
      expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config!.shutdownTimeoutMs);
      expect(config!.shutdownTimeoutMs).toBeGreaterThanOrEqual(config!.leaseMs);
    });

    it('is scaled by KEDA, never to zero', () => {
      expect(scaler.apiVersion).toBe('keda.sh/v1alpha1');
      expect(scaler.spec.scaleTargetRef.name).toBe('process');
      expect(scaler.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(scaler.spec.maxReplicaCount).toBeGreaterThan(scaler.spec.minReplicaCount);
    });

    it('scales on pending work from /stats, in flight included, and on the queue list the code writes', () => {
      const byType = Object.fromEntries(scaler.spec.triggers.map((t: any) => [t.type, t]));
      const pending = byType['metrics-api'];
      const url = new URL(pending.metadata.url);
      expect(url.hostname).toBe(`stats.${kustomization.namespace}.svc.cluster.local`);
      expect(url.pathname).toBe('/stats');
      expect(pending.metadata.valueLocation).toBe('pending');
      const lists = scaler.spec.triggers.filter((t: any) => t.type === 'redis');
      // One list trigger per queue shard the code writes.
      expect(lists.map((t: any) => t.metadata.listName)).toEqual(Array.from({ length: config!.queueShards }, (_, i) => queueKeys(shardPrefix(config!.queuePrefix, i)).queue));
      const list = lists[0];
      expect(list.metadata.address).toMatch(new RegExp(`\\.${kustomization.namespace}\\.svc\\.cluster\\.local:6379$`));
      for (const trigger of scaler.spec.triggers) find('TriggerAuthentication', trigger.authenticationRef.name);
    });
  });

  it('guards POST / on process with the ingest keys, as ingest itself', () => {
    const keysOf = (container: Container) => container.env?.find((v) => v.name === 'INGEST_API_KEYS')?.valueFrom.secretKeyRef;
    const ingestKeys = keysOf(knative('ingest').spec.containers[0]);
    expect(ingestKeys).toBeDefined();
    expect(keysOf(podOf(find('Deployment', 'process')).containers[0])).toEqual(ingestKeys);
  });

  it('migrates the database in a Job that runs the compiled migration', () => {
    const job = find('Job', 'aggregator-migrate');
    const pod = podOf(job);
    expect(['OnFailure', 'Never']).toContain(pod.restartPolicy);
    expect(sourceOfCompiled(pod.containers[0].args[0])).toBe('infra/migrate.ts');
    const { values, fromSecrets } = containerEnv(pod.containers[0]);
    expect(fromSecrets).toContain('DATABASE_URL');
    expect(envProblems('migrate', values, fromSecrets, { redis: false, db: true }).problems).toEqual([]);
  });

  it('reads the Secrets the operator and the chart in infra/k8s-deps create', () => {
    const cluster = loadYamlDocuments('infra/k8s-deps/postgres-cluster.yaml')[0]!;
    expect(cluster.kind).toBe('Cluster');
    const databaseRef = podOf(find('Deployment', 'process')).containers[0].env.find((v: any) => v.name === 'DATABASE_URL').valueFrom.secretKeyRef;
    // CloudNativePG names the application Secret <cluster>-app and puts the connection URI under `uri`.
    expect(databaseRef).toMatchObject({ name: `${cluster.metadata.name}-app`, key: 'uri' });
    const redisValues = loadYamlDocuments('infra/k8s-deps/redis-values.yaml')[0]!;
    expect(redisValues.commonConfiguration).toMatch(/^appendfsync always$/m);
    expect(redisValues.architecture).toBe('standalone');
    // Bitnami's chart, release `redis`: Service redis-master, Secret `redis` with key redis-password.
    expect(find('TriggerAuthentication', 'aggregator-redis').spec.secretTargetRef[0]).toMatchObject({ name: 'redis', key: 'redis-password' });
  });

  it('takes the database URL from the same secret everywhere', () => {
    const refs = resources
      .filter((r) => ['Deployment', 'Job'].includes(r.kind) || r.apiVersion === 'serving.knative.dev/v1')
      .flatMap((r) => podOf(r).containers.flatMap((c: Container) => c.env ?? []))
      .filter((v) => v.name === 'DATABASE_URL')
      .map((v) => JSON.stringify(v.valueFrom.secretKeyRef));
    expect(refs.length).toBeGreaterThanOrEqual(3);
    expect(new Set(refs).size).toBe(1);
  });
});

describe('the cluster overlay (infra/k8s-cluster)', () => {
  const overlay = kustomizeResources('infra/k8s-cluster');
  const maps = configMapsOf(overlay);
  const inOverlay = (kind: string, name: string) => overlay.find((r) => r.kind === kind && r.metadata.name === name)!;
  const containerOf = (name: FunctionName) => podOf(inOverlay(name === 'process' ? 'Deployment' : 'Service', name)).containers[0] as Container;
  const envOf = (name: FunctionName) => containerEnv(containerOf(name), maps);
  const configOf = (name: FunctionName) => {
    const { values, fromSecrets } = envOf(name);
    const { problems, config } = envProblems(name, values, fromSecrets);
    expect(problems, name).toEqual([]);
    return config!;
  };
  const secretRef = (name: FunctionName, variable: string) => containerOf(name).env?.find((v) => v.name === variable)?.valueFrom?.secretKeyRef;
  const chart = loadYamlDocuments('infra/k8s-deps/redis-cluster-values.yaml')[0]!;
  const scaler = inOverlay('ScaledObject', 'process');

  it('adds nothing and drops nothing: the base\'s resources, patched', () => {
    expect(overlay.map((r) => `${r.kind}/${r.metadata.name}`)).toEqual(resources.map((r) => `${r.kind}/${r.metadata.name}`));
    for (const r of overlay) expect(r.metadata.namespace).toBe(kustomization.namespace);
  });

  describe.each(FUNCTIONS)('%s', (name) => {
    it('reaches the chart\'s cluster with its password, in place of REDIS_URL, with a valid environment', () => {
      const config = configOf(name);
      // Bitnami's chart, release `redis-cluster`: Service redis-cluster, Secret redis-cluster with key redis-password.
      expect(config.redisClusterNodes).toEqual([{ host: `redis-cluster.${kustomization.namespace}.svc.cluster.local`, port: 6379 }]);
      expect(secretRef(name, 'REDIS_PASSWORD')).toEqual({ name: 'redis-cluster', key: 'redis-password' });
      expect(secretRef(name, 'REDIS_URL')).toBeUndefined();
      expect(config.queueShards).toBeGreaterThan(1);
    });
  });

  it('has ingest wait for as many replicas as the chart gives each master', () => {
    expect(configOf('ingest').redisMinReplicasAck).toBeGreaterThanOrEqual(1);
    expect(chart.cluster.replicas).toBeGreaterThanOrEqual(configOf('ingest').redisMinReplicasAck);
    expect(chart.cluster.nodes / (chart.cluster.replicas + 1)).toBe(3);
  });

  it('has stats, and only stats, read GET /events from the standbys', () => {
    expect(secretRef('stats', 'DATABASE_READ_URL')).toEqual({ name: 'aggregator', key: 'database-read-url' });
    expect(secretRef('stats', 'DATABASE_URL')).toEqual(secretRef('process', 'DATABASE_URL'));
    for (const name of ['ingest', 'process'] as const) expect(secretRef(name, 'DATABASE_READ_URL'), name).toBeUndefined();
  });

  it('scales the pollers on every shard list the code writes, each at the base list length over the shards', () => {
    const config = configOf('process');
    const triggers = scaler.spec.triggers as any[];
    const base = find('ScaledObject', 'process').spec.triggers as any[];
    expect(triggers.filter((t) => t.type === 'metrics-api')).toEqual(base.filter((t) => t.type === 'metrics-api'));
    expect(triggers.filter((t) => t.type === 'redis')).toEqual([]);
    const lists = triggers.filter((t) => t.type === 'redis-cluster');
    expect(lists.map((t) => t.metadata.listName)).toEqual(Array.from({ length: config.queueShards }, (_, i) => queueKeys(shardPrefix(config.queuePrefix, i)).queue));
    const baseLength = Number(base.find((t) => t.type === 'redis').metadata.listLength);
    for (const list of lists) {
      // KEDA's redis-cluster scaler: `addresses` (host:port, comma separated), `listName`, `listLength`.
      expect(list.metadata.addresses.split(',')).toEqual(config.redisClusterNodes.map((n) => `${n.host}:${n.port}`));
      expect(Number(list.metadata.listLength)).toBe(Math.round(baseLength / config.queueShards));
      const auth = inOverlay('TriggerAuthentication', list.authenticationRef.name);
      expect(auth.spec.secretTargetRef).toEqual([{ parameter: 'password', name: 'redis-cluster', key: 'redis-password' }]);
    }
  });
});
