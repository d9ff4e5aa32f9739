// What the server answers a person (or a misconfigured client) who opens its base URL or a path
// outside it: the endpoints and how to connect, instead of a bare 404.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ErrorCode } from '../protocol/index.js';
import { sendError, sendJson } from './http-util.js';
import { answerPreflight, setCorsHeaders } from './origin.js';

/** The endpoints under the base path, with what each is for. */
const ENDPOINTS: ReadonlyArray<readonly [string, string]> = [
  ['/ws', 'WebSocket'],
  ['/connect', 'POST: opens an SSE or long-polling connection'],
  ['/sse', 'Server-Sent Events stream'],
  ['/poll', 'long polling'],
  ['/send', 'POST: client frames for SSE and long polling'],
  ['/publish', 'POST: the publish API for backends (Authorization: Bearer <apiKey>)'],
  ['/health', 'GET: status'],
];

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The base URL as the request reached us (the Host header is the client's: escaped wherever shown). */
function baseUrl(req: IncomingMessage, path: string): string {
  const scheme = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  return `${scheme}://${req.headers.host ?? 'localhost'}${path}`;
}

/**
 * Answers `GET {path}` (and `GET /` on a server of its own with no fallback): a short HTML page
 * when the request accepts HTML (a browser's address bar), else JSON, naming the endpoints and
 * the URL to give `createClient`.
 */
export function answerLanding(req: IncomingMessage, res: ServerResponse, path: string, publishApi: boolean): void {
  const base = baseUrl(req, path);
  const endpoints = ENDPOINTS.filter(([name]) => publishApi || name !== '/publish');
  if (!/text\/html/.test(req.headers.accept ?? '')) {
    sendJson(res, 200, {
      lifeline: {
        base,
        client: `createClient(${JSON.stringify(base)})`,
        endpoints: Object.fromEntries(endpoints.map(([name, what]) => [`${path}${name}`, what])),
        publishApi: publishApi ? 'on' : 'off: the server has no apiKey',
      },
    });
    return;
  }
  const items = endpoints.map(([name, what]) => `<li><code>${escapeHtml(path + name)}</code> — ${escapeHtml(what)}</li>`).join('');
  const body =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Lifeline server</title></head><body>` +
    `<h1>Lifeline server</h1><p>This server speaks the Lifeline protocol. Connect a client to its base URL:</p>` +
    `<pre>createClient(${escapeHtml(JSON.stringify(base))})</pre><p>Endpoints:</p><ul>${items}</ul>` +
    (publishApi ? '' : '<p>The publish API is off: the server has no API key (<code>--api-key</code>).</p>') +
    `</body></html>\n`;
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

/**
 * Answers a request outside `path` on a server of its own without a fallback, readable from
 * any origin: a preflight passes (so that the request after it can be read), `GET /` gets the
 * landing page, anything else 404 `NOT_FOUND` naming the base path, which is what a client
 * given the server's origin without the path sees.
 */
export function answerOutside(req: IncomingMessage, res: ServerResponse, path: string, publishApi: boolean): void {
  setCorsHeaders(req, res);
  req.resume();
  let pathname = req.url ?? '/';
  try {
    pathname = new URL(pathname, 'http://localhost').pathname;
  } catch {
    // Not a URL: named as it came.
  }
  if (req.method === 'OPTIONS') return answerPreflight(res);
  if ((req.method === 'GET' || req.method === 'HEAD') && pathname === '/') return answerLanding(req, res, path, publishApi);
  sendError(res, 404, ErrorCode.NOT_FOUND, `No endpoint ${pathname}: this server's endpoints are under ${path} (e.g. ${path}/connect)`);
}
