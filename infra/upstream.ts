import type { Logger } from '../shared/log/logger.ts';

// Headers that belong to one connection, not to the request: a proxy must not pass them on.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host'];

const withoutHopByHop = (headers: Headers, extra: string[] = []) => {
  const copy = new Headers(headers);
  for (const name of [...HOP_BY_HOP, ...extra]) copy.delete(name);
  return copy;
};

/**
 * An app that forwards each request, path and query as they are, to the
 * function at `base`. An upstream that does not answer becomes the contract's
 * 503 with `Retry-After`, naming the function, so publishers back off and retry.
 *
 * @example createGatewayApp({ ingest: upstream('ingest', 'http://ingest:8080', logger), ... })
 */
export function upstream(name: string, base: string, logger: Logger) {
  return {
    async fetch(request: Request): Promise<Response> {
      const incoming = new URL(request.url);
      const target = new URL(`${incoming.pathname}${incoming.search}`, base);
      try {
        const response = await fetch(target, {
          method: request.method,
          headers: withoutHopByHop(request.headers),
          body: request.body,
          duplex: 'half',
          redirect: 'manual',
        });
        // fetch has already decoded a compressed body, so its encoding and length no longer hold.
        const headers = withoutHopByHop(response.headers, ['content-encoding', 'content-length']);
        return new Response(response.body, { status: response.status, headers });
      } catch (error) {
        logger.warn({ upstream: name, err: String((error as Error).cause ?? error) }, 'Upstream function did not answer');
        return Response.json(
          { error: 'unavailable', message: `${name} is unavailable, retry later`, dependency: name },
          { status: 503, headers: { 'Retry-After': '1' } },
        );
      }
    },
  };
}
