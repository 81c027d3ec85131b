import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { documents } from '../openapi/route-doc.ts';
import { unauthorized } from './errors.ts';

// Hashing first gives equal-length buffers, so the comparison takes the same time whatever the key's length.
const digest = (key: string) => createHash('sha256').update(key).digest();

function presentedKey(authorization: string | undefined, apiKeyHeader: string | undefined): string | undefined {
  if (apiKeyHeader) return apiKeyHeader;
  const match = authorization?.match(/^Bearer\s+(.+)$/i);
  return match?.[1]?.trim();
}

/**
 * Requires one of `keys` as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
 * With no keys configured the route is open (local use).
 *
 * @example app.post('/', apiKey(config.ingestApiKeys), handler)
 */
export function apiKey(keys: readonly string[]): MiddlewareHandler {
  const allowed = keys.map(digest);
  // The document gives each route this guards its security and 401.
  // Not async, as it only returns next()'s promise; Hono catches what it throws either way.
  return documents(function requireApiKey(c, next) {
    if (allowed.length === 0) return next();
    const key = presentedKey(c.req.header('authorization'), c.req.header('x-api-key'));
    const candidate = digest(key ?? '');
    // Compare against every key, so the time does not tell which one was close.
    let ok = false;
    for (const k of allowed) ok = timingSafeEqual(k, candidate) || ok;
    if (!ok || key === undefined) throw unauthorized();
    return next();
  }, { key: true });
}
