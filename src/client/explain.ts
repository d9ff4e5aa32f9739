// The development build's explanation of a failed connect attempt: what each transport saw and
// the likely fix. Only called behind `__DEV__`, so production carries none of it.
import type { ConnectAttempt } from './errors.js';

/** The parts of the options an explanation mentions. */
interface Where {
  url: string;
  connectTimeout: number;
}

/** A sentence for `CONNECT_FAILED` / `CONNECT_TIMEOUT` naming the URL, what each transport saw, and the likely fix. */
export function explainConnectFailure(
  code: 'CONNECT_FAILED' | 'CONNECT_TIMEOUT',
  { url, connectTimeout }: Where,
  attempts: readonly ConnectAttempt[],
): string {
  const seen = attempts.map(({ transport, reason }) => `${transport}: ${reason}`).join('; ');
  const head =
    code === 'CONNECT_TIMEOUT'
      ? `no transport got the server's welcome from ${url} within connectTimeout (${connectTimeout} ms)`
      : `could not connect to ${url}`;
  return `${head}${seen ? ` (${seen})` : ''}. ${likelyFix(url, attempts)}`;
}

function likelyFix(url: string, attempts: readonly ConnectAttempt[]): string {
  const reasons = attempts.map((attempt) => attempt.reason).join(' ');
  if (/HTTP 404/.test(reasons)) {
    const path = safePath(url);
    return `Nothing answers at ${path}: is ${url} the server's base path? The reference server serves its endpoints under /rt by default (e.g. ${url.replace(/\/+$/, '')}/rt).`;
  }
  if (/HTTP 403|ORIGIN_NOT_ALLOWED/.test(reasons)) {
    const origin = pageOrigin();
    return `The server refused this page's origin${origin ? ` (${origin})` : ''}: start it with --allow-origin ${origin || '<this page origin>'}, or add it to allowOrigins. localhost and 127.0.0.1 are different origins.`;
  }
  if (/HTTP 401|UNAUTHORIZED/.test(reasons)) return 'The server refused the token: check the token option.';
  if (/HTTP 5\d\d/.test(reasons)) return 'The server answered with an error: its log says why.';
  return `Is the server running and reachable at ${url}? A browser also reports a cross-origin request the server refused this way: check the server's --allow-origin.`;
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

function pageOrigin(): string | undefined {
  return (globalThis as { location?: { origin?: string } }).location?.origin;
}
