import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const html = readFileSync(new URL('./dashboard.html', import.meta.url), 'utf8');

/** The CSP source of the page's one inline element of a kind, by hash: nothing else may run or style it. */
function hashOf(tag: 'script' | 'style'): string {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(html);
  if (!match) throw new Error(`dashboard.html has no <${tag}>`);
  return `'sha256-${createHash('sha256').update(match[1] as string).digest('base64')}'`;
}

/**
 * The live dashboard: one self-contained page (inline CSS and script, no
 * external resource, as the machines it runs on are offline) and its headers.
 * The policy lets it talk only to the origin it came from.
 */
export const dashboardPage = {
  html,
  headers: {
    'Content-Security-Policy': [
      "default-src 'none'",
      `script-src ${hashOf('script')}`,
      `style-src ${hashOf('style')}`,
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  },
};
