// What a first-time user's mistakes get from the server: error answers a page on any origin
// can read, a log line for a refused origin with the flag that allows it, origins checked when
// the server starts, and a base URL that names its endpoints instead of a bare 404.
import { request } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer, memoryBroker, type ServerOptions } from '../../src/server.js';
import type WebSocket from 'ws';
import { connectRaw, http, startServer, upgradeStatus, type TestServer } from '../helpers/server.js';

let t: TestServer | undefined;
const start = async (options: ServerOptions = {}) => (t = await startServer(options));
afterEach(async () => {
  vi.useRealTimers();
  await t?.close();
  t = undefined;
});

const app = 'http://localhost:5173';
const evil = 'https://evil.example';
const quiet = { log: () => {} };

/** Every error answer of the HTTP endpoints a page on `origin` can meet, as [what, path, init, status, code]. */
const errorCases = (origin: string) => {
  const headers = { Origin: origin };
  const connect = (body: string, extra: Record<string, string> = {}) => ({ method: 'POST', headers: { ...headers, ...extra }, body });
  return [
    ['bad /connect body', '/connect', connect('{'), 400, 'BAD_JSON'],
    ['refused token', '/connect', connect('{"v":1,"transport":"sse"}', { Authorization: 'Bearer no' }), 401, 'UNAUTHORIZED'],
    ['wrong method', '/connect', { headers }, 405, 'NOT_FOUND'],
    ['unknown cid on /sse', '/sse?cid=x', { headers }, 404, 'UNKNOWN_CONNECTION'],
    ['unknown cid on /poll', '/poll?cid=x&ack=0', { headers }, 404, 'UNKNOWN_CONNECTION'],
    ['unknown cid on /send', '/send?cid=x', { method: 'POST', headers, body: '[]' }, 404, 'UNKNOWN_CONNECTION'],
    ['wrong API key', '/publish', connect('{"channel":"c","data":1}', { Authorization: 'Bearer no' }), 401, 'UNAUTHORIZED'],
    ['broker down', '/publish', connect('{"channel":"c","data":1}', { Authorization: 'Bearer k' }), 503, 'BROKER_UNAVAILABLE'],
    ['/ws without upgrade', '/ws', { headers }, 426, 'NOT_FOUND'],
    ['unknown endpoint', '/nope', { headers }, 404, 'NOT_FOUND'],
  ] as const;
};

describe('CORS on error answers', () => {
  it('every error of every endpoint carries Access-Control-Allow-Origin and Vary for an allowed origin', async () => {
    const broker = { ...memoryBroker(), publish: () => Promise.reject(new Error('down')) };
    const { url, origin } = await start({ ...quiet, allowOrigins: [app], apiKey: 'k', broker, authenticate: () => false });
    for (const [what, path, init, status, code] of errorCases(app)) {
      const res = await http(`${url}${path}`, init);
      expect(res, what).toMatchObject({ status, body: { error: { code } } });
      expect(res.headers.get('access-control-allow-origin'), what).toBe(app);
      expect(res.headers.get('vary'), what).toMatch(/Origin/);
    }
    // Outside the base path: what a client given the origin without /rt meets, preflight first.
    const preflight = await http(`${origin}/connect`, {
      method: 'OPTIONS',
      headers: { Origin: app, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(app);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const wrongPath = await http(`${origin}/connect`, { method: 'POST', headers: { Origin: app }, body: '{}' });
    expect(wrongPath).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', message: expect.stringContaining('/rt') } } });
    expect(wrongPath.headers.get('access-control-allow-origin')).toBe(app);
    // The WebSocket refusals are HTTP answers too (a browser hides them; other readers see them).
    const upgrade = await upgradeStatus(`${origin}/elsewhere`, { Origin: app });
    expect(upgrade).toMatchObject({ status: 404, upgraded: false });
    expect(upgrade.headers['access-control-allow-origin']).toBe(app);
  });

  it('the publish API switched off answers with CORS headers too', async () => {
    const { url } = await start({ ...quiet, allowOrigins: [app] });
    const off = await http(`${url}/publish`, { method: 'POST', headers: { Origin: app }, body: '{}' });
    expect(off).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(off.headers.get('access-control-allow-origin')).toBe(app);
  });

  it('a server shutting down answers 503 with CORS headers, /health and WebSocket upgrades included', async () => {
    const { url, server } = await start({ ...quiet, allowOrigins: [app] });
    const slow = await connectRaw('websocket', url);
    // A client that does not read never answers the close frame, so close() waits for the grace period.
    (slow.raw as WebSocket).pause();
    const closing = server.close();
    for (const [path, init] of [
      ['/connect', { method: 'POST', body: '{"v":1,"transport":"sse"}' }],
      ['/health', {}],
    ] as const) {
      const res = await http(`${url}${path}`, { ...init, headers: { Origin: app } });
      expect(res.status, path).toBe(503);
      expect(res.headers.get('access-control-allow-origin'), path).toBe(app);
    }
    const upgrade = await upgradeStatus(url, { Origin: app });
    expect(upgrade).toMatchObject({ status: 503, upgraded: false });
    expect(upgrade.headers['access-control-allow-origin']).toBe(app);
    await closing;
    t = undefined;
  });

  it('a refused origin can read its 403 on every endpoint (preflight included), WebSocket refusal included', async () => {
    const { url } = await start({ ...quiet, apiKey: 'k' });
    for (const [what, path, init] of errorCases(evil)) {
      const res = await http(`${url}${path}`, init);
      expect(res, what).toMatchObject({
        status: 403,
        body: { error: { code: 'ORIGIN_NOT_ALLOWED', message: expect.stringContaining(`--allow-origin ${evil}`) } },
      });
      expect(res.headers.get('access-control-allow-origin'), what).toBe(evil);
      expect(res.headers.get('vary'), what).toMatch(/Origin/);
    }
    const preflight = await http(`${url}/connect`, {
      method: 'OPTIONS',
      headers: { Origin: evil, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(evil);
    const ws = await upgradeStatus(url, { Origin: evil });
    expect(ws).toMatchObject({ status: 403, upgraded: false });
    expect(JSON.parse(ws.body).error.message).toContain(`--allow-origin ${evil}`);
    expect(ws.headers['access-control-allow-origin']).toBe(evil);
  });
});

describe('the refused-origin log', () => {
  it('logs a refused origin once per minute per origin, naming --allow-origin and allowOrigins', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const logs: string[] = [];
    const { url } = await start({ log: (message) => logs.push(message) });
    for (let i = 0; i < 3; i++) await http(`${url}/health`, { headers: { Origin: evil } });
    await upgradeStatus(url, { Origin: evil });
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain(`refused origin "${evil}"`);
    expect(logs[0]).toContain(`--allow-origin ${evil}`);
    expect(logs[0]).toContain('allowOrigins');
    // Another origin is its own line; the first comes back after a minute.
    await upgradeStatus(url, { Origin: 'https://other.example' });
    expect(logs).toHaveLength(2);
    expect(logs[1]).toContain('/rt/ws');
    vi.setSystemTime(Date.now() + 59_000);
    await http(`${url}/health`, { headers: { Origin: evil } });
    expect(logs).toHaveLength(2);
    vi.setSystemTime(Date.now() + 2_000);
    await http(`${url}/health`, { headers: { Origin: evil } });
    expect(logs).toHaveLength(3);
  });

  it('writes at most 20 lines a minute, and one line saying the rest are not logged', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const logs: string[] = [];
    const { url } = await start({ log: (message) => logs.push(message) });
    for (let i = 0; i < 30; i++) await http(`${url}/health`, { headers: { Origin: `https://x${i}.example` } });
    expect(logs).toHaveLength(21);
    expect(logs[20]).toContain('more than 20 origins refused within a minute');
    vi.setSystemTime(Date.now() + 60_000);
    await http(`${url}/health`, { headers: { Origin: 'https://x29.example' } });
    expect(logs.at(-1)).toContain('refused origin "https://x29.example"');
  });

  it('says so when the refused origin differs from an allowed one only by localhost ↔ 127.0.0.1, or by port', async () => {
    const logs: string[] = [];
    const { url } = await start({ allowOrigins: [app], log: (message) => logs.push(message) });
    await http(`${url}/health`, { headers: { Origin: 'http://127.0.0.1:5173' } });
    expect(logs[0]).toContain('http://localhost:5173 is allowed, but 127.0.0.1 and localhost are different origins');
    await http(`${url}/health`, { headers: { Origin: 'http://localhost:4173' } });
    expect(logs[1]).toContain('http://localhost:5173 is allowed, but the port is part of the origin');
    await http(`${url}/health`, { headers: { Origin: 'http://127.0.0.1:4173' } });
    expect(logs[2]).not.toContain('Note:');
  });

  it('logs with console.warn by default', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const { url } = await start();
      await http(`${url}/health`, { headers: { Origin: evil } });
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(`--allow-origin ${evil}`));
    } finally {
      warn.mockRestore();
    }
  });
});

describe('allowOrigins', () => {
  it('drops a trailing slash and matches the origin a browser sends', async () => {
    const { url } = await start({ ...quiet, allowOrigins: ['http://localhost:5173/', 'HTTPS://App.Example:443'] });
    for (const origin of [app, 'https://app.example']) {
      const res = await http(`${url}/health`, { headers: { Origin: origin } });
      expect(res.status, origin).toBe(200);
      expect(res.headers.get('access-control-allow-origin'), origin).toBe(origin);
    }
  });

  it('refuses a value that is not an origin with a BAD_OPTION TypeError naming the fix', () => {
    const thrown = (value: string) => {
      try {
        createServer({ allowOrigins: [value] });
      } catch (error) {
        return error as TypeError & { code?: string; option?: string };
      }
      throw new Error(`${value} was accepted`);
    };
    for (const [value, fix] of [
      ['localhost:5173', 'did you mean "http://localhost:5173"?'],
      ['http://x.example/path', 'did you mean "http://x.example"?'],
      ['http://x.example/?q', 'did you mean "http://x.example"?'],
      ['null', 'serve the page over http'],
      ['not an origin', 'scheme://host[:port]'],
    ] as const) {
      const error = thrown(value);
      expect(error, value).toBeInstanceOf(TypeError);
      expect(error, value).toMatchObject({ code: 'BAD_OPTION', option: 'allowOrigins' });
      expect(error.message, value).toContain('"allowOrigins"');
      expect(error.message, value).toContain(fix);
    }
    expect(() => createServer({ allowOrigins: ['*'] })).not.toThrow();
    expect(thrown(42 as never)).toMatchObject({ code: 'BAD_OPTION' });
  });
});

describe('the base URL and /', () => {
  it('GET {path} names the endpoints: a page for a browser, JSON otherwise', async () => {
    const { url } = await start();
    const page = await http(url, { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.body).toContain(`createClient(&quot;${url}&quot;)`);
    expect(page.body).toContain('/rt/ws');
    expect(page.body).toContain('--api-key');
    const json = await http(`${url}/`);
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({
      lifeline: { base: url, client: `createClient("${url}")`, endpoints: { '/rt/ws': 'WebSocket', '/rt/connect': expect.any(String) } },
    });
  });

  it('GET / on a server of its own answers the same; other paths 404 naming the base; a fallback can hand back with next()', async () => {
    const { url, origin } = await start({ apiKey: 'k' });
    expect((await http(`${origin}/`)).body).toMatchObject({ lifeline: { base: url, publishApi: 'on' } });
    expect(await http(`${origin}/app.js`)).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND', message: expect.stringContaining("this server's endpoints are under /rt") } },
    });
    await t!.close();
    const withFallback = await start({ fallback: (req, res, next) => (req.url === '/mine' ? res.end('mine') : next()) });
    expect((await http(`${withFallback.origin}/mine`)).body).toBe('mine');
    expect((await http(`${withFallback.origin}/`)).body).toMatchObject({ lifeline: { publishApi: 'off: the server has no apiKey' } });
    expect((await http(`${withFallback.origin}/other`)).status).toBe(404);
  });

  it('escapes a Host header shown in the page', async () => {
    // Every Host allowed, so the page is answered rather than the Host refused.
    const { url } = await start({ allowedHosts: ['*'] });
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(url, { headers: { Accept: 'text/html', Host: '<script>x</script>' } }, (r) => {
        let text = '';
        r.setEncoding('utf8').on('data', (c: string) => (text += c));
        r.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    expect(body).not.toContain('<script>');
    expect(body).toContain('&lt;script&gt;');
  });
});
