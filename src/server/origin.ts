import type { IncomingMessage, ServerResponse } from 'node:http';

/** The request's Origin header, if it has exactly one. */
export const originOf = (req: IncomingMessage): string | undefined => {
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

/**
 * The CORS headers of an answer to `req`: the request's own Origin echoed for a cross-origin
 * request, allowed or refused alike, so that a page can read why it was refused (a refusal
 * carries no data, and the request itself was not acted on). `Vary: Origin` always, since the
 * answer depends on it.
 */
export function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = originOf(req);
  return origin === undefined || sameOrigin(origin, req) ? { Vary: 'Origin' } : { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
}

/** Sets {@link corsHeaders} on a response, so that every answer written later carries them. */
export function setCorsHeaders(req: IncomingMessage, res: ServerResponse): void {
  for (const [name, value] of Object.entries(corsHeaders(req))) res.setHeader(name, value);
}

/**
 * Answers a CORS preflight with 204. Answered for refused origins too: the request that follows
 * is refused with a 403 the page can read, where a refused preflight would only say "CORS".
 */
export function answerPreflight(res: ServerResponse): void {
  res.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type',
    'Access-Control-Max-Age': '600',
  });
  res.end();
}

/** Why a value of `allowOrigins` / `--allow-origin` is not an origin, with the value meant if one can be guessed. */
export interface OriginProblem {
  problem: string;
  suggestion?: string;
}

/**
 * Normalises an entry of `allowOrigins` to the form browsers send in `Origin`
 * (`scheme://host[:port]`, lower case, no default port, no trailing slash), or says why it is
 * not one. `*` stays `*`.
 */
export function normalizeOrigin(value: string): { origin: string } | OriginProblem {
  if (value === '*') return { origin: '*' };
  const text = value.trim();
  if (text === 'null')
    return {
      problem: 'a page opened from a file:// URL sends Origin null, which any sandboxed page can send too: serve the page over http',
    };
  if (!/^[a-z][a-z\d+.-]*:\/\//i.test(text)) {
    return /^[\w.-]+(:\d+)?(\/.*)?$/.test(text)
      ? { problem: 'an origin starts with its scheme', suggestion: `http://${text.replace(/\/.*$/, '')}` }
      : { problem: 'an origin is scheme://host[:port]' };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: 'it is not a URL' };
  }
  // Schemes URL does not know (chrome-extension:, tauri:) have an opaque origin: keep scheme://host.
  const origin = url.origin === 'null' ? `${url.protocol}//${url.host}` : url.origin;
  if (url.host === '') return { problem: 'an origin has a host' };
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    return { problem: 'an origin has no path, query or user name', suggestion: origin };
  }
  return { origin };
}

/** Hosts that all name this machine, yet are different origins to a browser. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The allowed origin that `refused` differs from only by a loopback name (`localhost` ↔
 * `127.0.0.1`) or only by port, with the sentence that says so; undefined when none does.
 */
export function nearMiss(refused: string, allowOrigins: readonly string[]): string | undefined {
  let page: URL;
  try {
    page = new URL(refused);
  } catch {
    return undefined;
  }
  for (const allowed of allowOrigins) {
    let url: URL;
    try {
      url = new URL(allowed);
    } catch {
      continue;
    }
    if (url.protocol !== page.protocol) continue;
    if (url.port === page.port && url.hostname !== page.hostname && LOOPBACK.has(url.hostname) && LOOPBACK.has(page.hostname)) {
      return `${allowed} is allowed, but ${page.hostname} and ${url.hostname} are different origins to a browser`;
    }
    if (url.hostname === page.hostname && url.port !== page.port) {
      return `${allowed} is allowed, but the port is part of the origin (Vite's dev server uses 5173, vite preview 4173)`;
    }
  }
  return undefined;
}
