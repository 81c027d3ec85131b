import { isIP } from 'node:net';
import type { Config } from '../config/config.ts';
import { redactUrl } from '../config/redact-url.ts';
import type { Logger } from '../log/logger.ts';
import { redisTarget } from '../queue/redis.ts';

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));

/**
 * The one line that says what a started process is: where it listens, which routes need a key,
 * and the Redis and PostgreSQL it uses (passwords hidden). It is a warning when routes are open
 * to anyone who can reach a non-loopback address.
 *
 * @example logStart(logger, config, { port: 8080, redis: true, db: true })
 */
export function logStart(logger: Logger, config: Config, listening: { port: number; redis: boolean; db: boolean }) {
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const line = {
    url: `http://${host}:${listening.port}`,
    ingest_key: config.ingestApiKeys.length > 0 ? 'required' : 'open',
    read_key: config.readApiKeys.length > 0 ? 'required' : 'open',
    ...(listening.redis ? { redis: redisTarget(config) } : {}),
    ...(listening.db ? { postgres: redactUrl(config.databaseUrl) } : {}),
    ...(listening.db && config.databaseReadUrl !== config.databaseUrl ? { postgres_reads: redactUrl(config.databaseReadUrl) } : {}),
  };
  const open = [line.ingest_key === 'open' ? 'INGEST_API_KEYS' : '', line.read_key === 'open' ? 'READ_API_KEYS' : ''].filter((k) => k !== '');
  if (open.length > 0 && !isLoopback(config.host)) {
    logger.warn(line, `Listening on ${line.url} with routes open to the network: set ${open.join(' and ')}`);
  } else {
    logger.info(line, `Listening on ${line.url}`);
  }
}
