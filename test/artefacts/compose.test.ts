import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../shared/config/config.ts';
import { activeServices, dockerfileStages, environmentOf, exists, loadEnvFile, loadYaml, readText, sourceOfCompiled } from './support/artefacts.ts';
import { envProblems, FUNCTIONS, isConfigKey, type FunctionName } from './support/config-keys.ts';

const compose = loadYaml('docker-compose.yml');
const services = compose.services as Record<string, any>;
const env = (service: string) => environmentOf(services[service]?.environment);
const hostOf = (url: string) => new URL(url).hostname;
const durationMs = (value: string) => {
  const match = /^(\d+)(ms|s|m)$/.exec(value);
  if (!match) throw new Error(`unreadable duration ${value}`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
};

describe('docker-compose.yml', () => {
  it('runs the services the README names, and only those, without a profile', () => {
    expect(activeServices(compose, []).sort()).toEqual(['gateway', 'ingest', 'postgres', 'process', 'publisher', 'redis', 'stats']);
    expect(activeServices(compose, ['testing']).sort()).toEqual(['gateway', 'ingest', 'postgres', 'process', 'publisher', 'redis', 'stats', 'test_case']);
  });

  it.each([[[]], [['testing']], [['cluster']]])('waits, with profiles %j, only on services that run or that it does not require', (profiles: string[]) => {
    const active = new Set(activeServices(compose, profiles));
    for (const name of active) {
      for (const [dependency, how] of Object.entries((services[name].depends_on ?? {}) as Record<string, { required?: boolean }>)) {
        expect(services[dependency], `${name} -> ${dependency}`).toBeDefined();
        if (!active.has(dependency)) expect(how.required, `${name} -> ${dependency}, not running`).toBe(false);
      }
    }
  });

  it.each(FUNCTIONS)('gives %s, without the cluster profile\'s variables, the single Redis and the primary as before', (name) => {
    const { config } = envProblems(name, env(name));
    const queue = (c: Config) => [c.redisClusterNodes, c.queueShards, c.queueShardsRead, c.redisMinReplicasAck];
    expect(queue(config!)).toEqual(queue(defaultConfig()));
    expect(config!.databaseReadUrl).toBe(config!.databaseUrl);
  });

  it('the probe of config variables tells known from unknown', () => {
    expect(isConfigKey('REDIS_URL')).toBe(true);
    expect(isConfigKey('SHUTDOWN_TIMEOUT_MS')).toBe(true);
    expect(isConfigKey('REDIS_URI')).toBe(false);
  });

  it('runs Redis with AOF fsync on every write, on a named volume, with a healthcheck, not published', () => {
    const redis = services.redis;
    const command = (redis.command as string[]).join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--appendfsync always/);
    const volume = String(redis.volumes[0]).split(':')[0]!;
    expect(compose.volumes).toHaveProperty(volume);
    expect(redis.healthcheck.test).toBeDefined();
    expect(redis.ports).toBeUndefined();
  });

  it('keeps PostgreSQL on a named volume with a healthcheck, not published, holding no WAL for a replica', () => {
    const postgres = services.postgres;
    expect(postgres.command).toContain('wal_keep_size=0');
    expect(compose.volumes).toHaveProperty(String(postgres.volumes[0]).split(':')[0]!);
    expect(postgres.healthcheck.test.join(' ')).toMatch(/pg_isready/);
    expect(postgres.ports).toBeUndefined();
  });

  it('puts every service on one network', () => {
    const networks = Object.keys(compose.networks);
    expect(networks).toHaveLength(1);
    for (const [name, service] of Object.entries(services)) expect(service.networks, name).toEqual(networks);
  });

  describe.each(FUNCTIONS)('%s', (name: FunctionName) => {
    const service = services[name];

    it('runs its own compiled server from infra/Dockerfile', () => {
      expect(service.build.dockerfile).toBe('infra/Dockerfile');
      expect(exists(service.build.dockerfile)).toBe(true);
      expect(sourceOfCompiled(service.command[0])).toBe(`functions/${name}/server.ts`);
    });

    it('sets only variables the config reads, and the connections it needs', () => {
      expect(envProblems(name, env(name)).problems).toEqual([]);
    });

    it('reaches Redis and PostgreSQL at their compose services, and listens on the port the others call', () => {
      const { config } = envProblems(name, env(name));
      expect(services[hostOf(config!.redisUrl)]).toBe(services.redis);
      expect(new URL(config!.redisUrl).port || '6379').toBe('6379');
      if (env(name).DATABASE_URL) {
        expect(services[hostOf(config!.databaseUrl)]).toBe(services.postgres);
        expect(new URL(config!.databaseUrl).password).toBe(services.postgres.environment.POSTGRES_PASSWORD);
        expect(new URL(config!.databaseUrl).pathname).toBe(`/${services.postgres.environment.POSTGRES_DB}`);
      }
      expect(config!.port).toBe(8080);
      expect(service.depends_on.redis.condition).toBe('service_healthy');
    });
  });

  it('gives the three functions one queue: the same Redis and key prefix', () => {
    const configs = FUNCTIONS.map((name) => envProblems(name, env(name)).config!);
    expect(new Set(configs.map((c) => `${c.redisUrl} ${c.queuePrefix}`)).size).toBe(1);
  });

  it('guards POST /function/process with the ingest keys, as ingest itself', () => {
    const keyed = loadYaml('docker-compose.yml', { INGEST_API_KEYS: 'k1,k2' }).services;
    for (const name of ['ingest', 'process'] as const) {
      expect(envProblems(name, environmentOf(keyed[name].environment)).config!.ingestApiKeys, name).toEqual(['k1', 'k2']);
    }
  });

  it('runs several pollers, each given longer to stop than its own shutdown deadline', () => {
    const processService = services.process;
    expect(processService.deploy.replicas).toBeGreaterThanOrEqual(2);
    const { config } = envProblems('process', env('process'));
    expect(durationMs(processService.stop_grace_period)).toBeGreaterThan(config!.shutdownTimeoutMs);
  });

  it('publishes only the gateway, on 8080, forwarding to each function where it listens', () => {
    const published = Object.entries(services).filter(([, s]) => s.ports).map(([n]) => n);
    expect(published).toEqual(['gateway']);
    expect(services.gateway.ports).toEqual(['8080:8080']);
    const [entry, ...args] = services.gateway.command as string[];
    expect(sourceOfCompiled(entry!)).toBe('infra/gateway.ts');
    for (const name of FUNCTIONS) {
      const url = new URL(args[args.indexOf(`--${name}`) + 1]!);
      expect(services[url.hostname]).toBe(services[name]);
      expect(Number(url.port)).toBe(envProblems(name, env(name)).config!.port);
    }
    for (const name of FUNCTIONS) expect(services.gateway.depends_on[name].condition).toBe('service_healthy');
  });

  it('relies on the image HEALTHCHECK for the functions and the gateway', () => {
    const runtime = dockerfileStages('infra/Dockerfile').at(-1)!;
    const healthcheck = runtime.instructions.find((i) => i.op === 'HEALTHCHECK')!;
    expect(healthcheck.args).toMatch(/dist\/infra\/healthcheck\.js/);
    sourceOfCompiled(/(dist\/infra\/healthcheck\.js)/.exec(healthcheck.args)![1]!);
  });

  it('runs the burst once in the official k6 image against the gateway', () => {
    const publisher = services.publisher;
    expect(publisher.image).toMatch(/^grafana\/k6:/);
    expect(publisher.restart).toBe('no');
    const [host = '', container] = String(publisher.volumes[0]).split(':');
    expect(publisher.command).toEqual(['run', `${container}/burst.js`]);
    expect(exists(`${host.replace(/^\.\//, '')}/burst.js`)).toBe(true);
    expect(new URL(publisher.environment.BASE_URL).hostname).toBe('gateway');
    expect(publisher.environment.EVENTS).toBe('20000');
    expect(publisher.environment.DUPLICATES).toBe('0.3');
    expect(publisher.depends_on.gateway.condition).toBe('service_healthy');
  });

  it('runs the test suite under the testing profile against the compose Redis and PostgreSQL', () => {
    const testCase = services.test_case;
    expect(testCase.profiles).toEqual(['testing']);
    const target = testCase.build.target;
    expect(dockerfileStages(testCase.build.dockerfile).map((s) => s.name)).toContain(target);
    expect(hostOf(testCase.environment.TEST_DATABASE_URL)).toBe('postgres');
    expect(new URL(testCase.environment.TEST_DATABASE_URL).password).toBe(services.postgres.environment.POSTGRES_PASSWORD);
    expect(hostOf(testCase.environment.TEST_REDIS_URL)).toBe('redis');
  });
});

describe('the cluster profile, with infra/compose-cluster.env', () => {
  const clusterEnv = loadEnvFile('infra/compose-cluster.env');
  const cluster = loadYaml('docker-compose.yml', clusterEnv);
  const all = cluster.services as Record<string, any>;
  const profiles = clusterEnv.COMPOSE_PROFILES!.split(',');
  const active = activeServices(cluster, profiles);
  const envOf = (service: string) => environmentOf(all[service]?.environment);
  const configOf = (name: FunctionName) => {
    const { problems, config } = envProblems(name, envOf(name));
    expect(problems, name).toEqual([]);
    return config!;
  };
  const nodes = active.filter((name) => /^redis-node-\d+$/.test(name));
  const postgresPassword = services.postgres.environment.POSTGRES_PASSWORD;

  it('sets only variables the compose file reads', () => {
    const text = readText('docker-compose.yml');
    for (const name of Object.keys(clusterEnv).filter((n) => n !== 'COMPOSE_PROFILES')) expect(text, name).toContain(`\${${name}:-`);
  });

  it('turns the profile on, which adds six Redis nodes, their one-shot create and a PostgreSQL replica, none published', () => {
    expect(profiles).toEqual(['cluster']);
    expect(active.filter((name) => !activeServices(compose, []).includes(name)).sort()).toEqual([...nodes, 'postgres-replica', 'redis-cluster-create'].sort());
    expect(nodes).toHaveLength(6);
    for (const name of active) if (name !== 'gateway') expect(all[name].ports, name).toBeUndefined();
  });

  it('runs every node in cluster mode with AOF fsync on every write, on a volume of its own, with a healthcheck', () => {
    const volumes = new Set<string>();
    for (const name of nodes) {
      const command = (all[name].command as string[]).join(' ');
      expect(command).toMatch(/^redis-server .*--cluster-enabled yes/);
      expect(command).toMatch(/--appendonly yes/);
      expect(command).toMatch(/--appendfsync always/);
      expect(command).not.toMatch(/--port /); // the nodes listen on 6379, as REDIS_CLUSTER_NODES says
      const volume = String(all[name].volumes[0]).split(':')[0]!;
      expect(cluster.volumes).toHaveProperty(volume);
      volumes.add(volume);
      expect(all[name].healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
    }
    expect(volumes.size).toBe(nodes.length);
  });

  it('creates the cluster once every node is healthy, from the nodes the functions are given, one replica a master', () => {
    const create = all['redis-cluster-create'];
    for (const name of nodes) expect(create.depends_on[name].condition, name).toBe('service_healthy');
    expect(create.restart).toBe('no');
    const [shell, flag, script, , ...addresses] = create.command as string[];
    expect([shell, flag]).toEqual(['sh', '-c']);
    expect(script).toMatch(/redis-cli --cluster create "\$@" --cluster-replicas 1 --cluster-yes/);
    expect(addresses).toEqual(configOf('ingest').redisClusterNodes.map((n) => `${n.host}:${n.port}`));
    expect(addresses.map((a) => a.split(':')[0]).sort()).toEqual([...nodes].sort());
  });

  describe.each(FUNCTIONS)('%s', (name: FunctionName) => {
    it('reaches every node of the cluster, once it is created, and spreads the queue over its shards', () => {
      const config = configOf(name);
      expect(config.redisClusterNodes.map((n) => n.host).sort()).toEqual([...nodes].sort());
      expect(config.redisClusterNodes.every((n) => n.port === 6379)).toBe(true);
      expect(config.queueShards).toBeGreaterThan(nodes.length / 2);
      expect(all[name].depends_on['redis-cluster-create'].condition).toBe('service_completed_successfully');
      // The rest stays: PostgreSQL is still the primary, the port still 8080.
      expect(all[name].depends_on.postgres.condition).toBe('service_healthy');
      expect(config.port).toBe(8080);
      if (envOf(name).DATABASE_URL) expect(hostOf(config.databaseUrl)).toBe('postgres');
    });
  });

  it('gives the three functions one queue: the same nodes, shards and key prefix', () => {
    const queues = FUNCTIONS.map((name) => configOf(name)).map((c) => JSON.stringify([c.redisClusterNodes, c.queueShards, c.queuePrefix]));
    expect(new Set(queues).size).toBe(1);
  });

  it('has ingest wait for a replica before a 202, and a replica to wait for', () => {
    expect(configOf('ingest').redisMinReplicasAck).toBe(1);
    const create = (all['redis-cluster-create'].command as string[])[2]!;
    expect(Number(/--cluster-replicas (\d+)/.exec(create)![1])).toBeGreaterThanOrEqual(configOf('ingest').redisMinReplicasAck);
  });

  it('has stats read /events from the replica, as the primary user, once the replica is healthy', () => {
    const config = configOf('stats');
    const read = new URL(config.databaseReadUrl);
    expect(read.hostname).toBe('postgres-replica');
    expect(active).toContain(read.hostname);
    expect(read.password).toBe(postgresPassword);
    expect(read.pathname).toBe(`/${services.postgres.environment.POSTGRES_DB}`);
    expect(all.stats.depends_on['postgres-replica'].condition).toBe('service_healthy');
    for (const name of ['ingest', 'process'] as const) expect(envOf(name).DATABASE_READ_URL, name).toBeUndefined();
  });

  it('lets the replica stream from the primary: a replication line in the hba file the primary is told to read, and WAL kept', () => {
    const primary = all.postgres;
    const hbaFile = /^hba_file=(.+)$/.exec((primary.command as string[]).find((arg) => arg.startsWith('hba_file='))!)![1];
    const mounted = (primary.configs as Array<{ source: string; target: string }>).find((c) => c.target === hbaFile)!;
    expect(cluster.configs[mounted.source].content).toMatch(/^host\s+replication\s+all\s+all\s+scram-sha-256$/m);
    expect(primary.command).toContain('wal_keep_size=512MB');
    const replica = all['postgres-replica'];
    expect(replica.environment.PGHOST).toBe('postgres');
    expect(replica.environment.PGPASSWORD).toBe(postgresPassword);
    expect(replica.depends_on.postgres.condition).toBe('service_healthy');
    expect(replica.healthcheck.test.join(' ')).toMatch(/pg_isready/);
    expect(cluster.volumes).toHaveProperty(String(replica.volumes[0]).split(':')[0]!);
    expect((replica.command as string[])[2]).toMatch(/pg_basebackup .*--write-recovery-conf/);
  });

  it('leaves the single Redis, the gateway, the publisher and the test suite as they are', () => {
    for (const name of ['redis', 'gateway', 'publisher', 'test_case']) expect(all[name], name).toEqual(services[name]);
  });

});
