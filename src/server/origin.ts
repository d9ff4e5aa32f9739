import type { IncomingMessage, ServerResponse } from 'node:http';

/** The request's Origin header, if it has exactly one. */
const originOf = (req: IncomingMessage): string | undefined => {
  const origin = req.headers.origin;
  return typeof origin === 'string' ? origin : undefined;
};

/** True when Origin names the host the request was sent to (scheme aside: a proxy may end TLS). */
function sameOrigin(origin: string, req: IncomingMessage): boolean {
  try {
    return new URL(origin).host === (req.headers.host ?? '').toLowerCase();
  } catch {
    return false;
  }
}

/**
 * Whether the request may be served. Requests without Origin come from non-browser clients,
 * which can send any header anyway; browsers always send it on cross-site WebSocket handshakes
 * and CORS requests, which is what the check is for.
 */
export function originAllowed(req: IncomingMessage, allowOrigins: readonly string[]): boolean {
  const origin = originOf(req);
  if (origin === undefined || sameOrigin(origin, req)) return true;
  return allowOrigins.includes('*') || allowOrigins.includes(origin);
}

/** Adds CORS headers for an allowed cross-origin request (same-origin requests need none). */
export function setCorsHeaders(req: IncomingMessage, res: ServerResponse): void {
  const origin = originOf(req);
  if (origin === undefined || sameOrigin(origin, req)) return;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Vary', 'Origin');
}
