// Origins, CORS, tokens out of URLs, and malformed input that must never hurt the server or other clients.
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type LifelineServer, type ServerOptions } from '../../src/server.js';
import type { ServerFrame } from '../../src/protocol/index.js';
import { connectRaw, http, startServer, transports, until, upgradeStatus, type TestServer } from '../helpers/server.js';

let t: TestServer | undefined;
const start = async (options: ServerOptions = {}) => (t = await startServer(options));
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const upgrade = (url: string, origin: string) => upgradeStatus(url, { Origin: origin });

const polluted = () => (({}) as Record<string, unknown>).polluted !== undefined || Object.hasOwn(Object.prototype, 'polluted');

describe('origins', () => {
  it('refuses a foreign Origin with 403 before any data, on every endpoint, and never upgrades', async () => {
    let authenticated = 0;
    const { url } = await start({ apiKey: 'k', authenticate: () => ++authenticated, log: () => {} });
    const evil = 'https://evil.example';
    const ws = await upgrade(url, evil);
    expect(ws).toMatchObject({ status: 403, upgraded: false });
    expect(JSON.parse(ws.body)).toEqual({ error: { code: 'ORIGIN_NOT_ALLOWED', message: expect.any(String) } });
    const headers = { Origin: evil };
    for (const [path, init] of [
      ['/connect', { method: 'POST', body: JSON.stringify({ v: 1, transport: 'sse' }) }],
      ['/sse?cid=x', {}],
      ['/poll?cid=x&ack=0', {}],
      ['/send?cid=x', { method: 'POST', body: '[]' }],
      ['/publish', { method: 'POST', headers: { ...headers, Authorization: 'Bearer k' }, body: '{"channel":"c","data":1}' }],
      ['/health', {}],
    ] as const) {
      const res = await http(`${url}${path}`, { headers, ...init });
      expect(res, path).toMatchObject({ status: 403, body: { error: { code: 'ORIGIN_NOT_ALLOWED' } } });
      // Readable by the refused page (it learns why), which gets nothing else.
      expect(res.headers.get('access-control-allow-origin'), path).toBe(evil);
    }
    expect(authenticated).toBe(0);
    expect((await t!.server.publish('c', 1)).seq).toBe(1);
  });

  it('accepts its own origin and requests without Origin, without CORS headers', async () => {
    const { url, origin } = await start();
    expect(await upgrade(url, origin)).toMatchObject({ status: 101, upgraded: true });
    for (const transport of transports) await connectRaw(transport, url, { origin });
    const res = await http(`${url}/health`, { headers: { Origin: origin } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect((await http(`${url}/health`)).status).toBe(200);
  });

  it('answers CORS for an allowed origin, including preflights', async () => {
    const app = 'https://app.example';
    const { url } = await start({ allowOrigins: [app] });
    expect(await upgrade(url, app)).toMatchObject({ status: 101 });
    for (const transport of transports) await connectRaw(transport, url, { origin: app });
    const res = await http(`${url}/connect`, {
      method: 'POST',
      headers: { Origin: app },
      body: JSON.stringify({ v: 1, transport: 'longpoll' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(app);
    expect(res.headers.get('vary')).toMatch(/Origin/);
    const preflight = await http(`${url}/connect`, {
      method: 'OPTIONS',
      headers: { Origin: app, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(app);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST/);
  });

  it('allows every origin with "*"', async () => {
    const { url } = await start({ allowOrigins: ['*'] });
    expect(await upgrade(url, 'https://anyone.example')).toMatchObject({ status: 101 });
    const res = await http(`${url}/health`, { headers: { Origin: 'https://anyone.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://anyone.example');
  });
});

/** An HTTP request with the given `Host` (fetch can't set it), answering status and body. */
function withHost(
  url: string,
  host: string,
  method = 'GET',
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: { ...headers, Host: host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('hosts (DNS rebinding)', () => {
  const connectBody = JSON.stringify({ v: 1, transport: 'longpoll' });

  it('refuses a rebinding page (Host attacker.example, matching Origin) with 403 HOST_NOT_ALLOWED on every client endpoint', async () => {
    let authenticated = 0;
    const { url } = await start({ apiKey: 'k', authenticate: () => ++authenticated });
    const port = new URL(url).port;
    const host = `attacker.example:${port}`;
    const origin = `http://${host}`;
    const ws = await upgradeStatus(url, { Host: host, Origin: origin });
    expect(ws).toMatchObject({ status: 403, upgraded: false });
    expect(JSON.parse(ws.body)).toMatchObject({ error: { code: 'HOST_NOT_ALLOWED' } });
    for (const [path, method, body] of [
      ['/connect', 'POST', connectBody],
      ['/sse?cid=x', 'GET', undefined],
      ['/poll?cid=x&ack=0', 'GET', undefined],
      ['/send?cid=x', 'POST', '[]'],
    ] as const) {
      const res = await withHost(`${url}${path}`, host, method, body, { Origin: origin });
      expect(res, path).toMatchObject({ status: 403, body: { error: { code: 'HOST_NOT_ALLOWED' } } });
    }
    expect(authenticated).toBe(0);
    // Backends and probes may use any name: the publish API has its key, /health tells nothing.
    expect(
      (await withHost(`${url}/publish`, 'lifeline:3000', 'POST', '{"channel":"c","data":1}', { Authorization: 'Bearer k' })).status,
    ).toBe(200);
    expect((await withHost(`${url}/health`, host)).status).toBe(200);
  });

  it('answers IP literals, localhost and the name given to listen by default, on any port (a proxy in front)', async () => {
    const { url } = await start();
    for (const host of ['127.0.0.1:8080', 'localhost', 'LOCALHOST:1', 'app.localhost:5173', '[::1]:443', '10.0.0.5']) {
      expect((await withHost(`${url}/connect`, host, 'POST', connectBody)).status, host).toBe(200);
    }
    expect((await upgradeStatus(url, { Host: 'localhost:9', Origin: 'http://localhost:9' })).status).toBe(101);
    const named = createServer();
    const { port } = await named.listen(0, 'localhost');
    try {
      expect((await withHost(`http://localhost:${port}/rt/connect`, `localhost:${port}`, 'POST', connectBody)).status).toBe(200);
    } finally {
      await named.close();
    }
  });

  it('allowedHosts adds names, subdomains with a leading dot, and every name with "*"', async () => {
    const { url } = await start({ allowedHosts: ['rt.example.com', '.example.org'] });
    for (const [host, status] of [
      ['rt.example.com', 200],
      ['RT.example.com.:443', 200],
      ['example.org', 200],
      ['a.b.example.org:80', 200],
      ['example.com', 403],
      ['evil-example.org', 403],
    ] as const) {
      expect((await withHost(`${url}/connect`, host, 'POST', connectBody)).status, host).toBe(status);
    }
    expect((await upgradeStatus(url, { Host: 'rt.example.com', Origin: 'https://rt.example.com' })).status).toBe(101);
    await t!.close();
    const { url: open } = await start({ allowedHosts: ['*'] });
    expect((await withHost(`${open}/connect`, 'anything.example', 'POST', connectBody)).status).toBe(200);
    expect(() => createServer({ allowedHosts: ['rt.example.com:443'] })).toThrow(/allowedHosts/);
  });
});

describe('tokens', () => {
  let host: Server | undefined;
  let lifeline: LifelineServer | undefined;
  afterEach(async () => {
    await lifeline?.close();
    await new Promise((resolve) => host?.close(resolve));
    host = undefined;
    lifeline = undefined;
  });

  it('never need to be in a URL, on any transport', async () => {
    const urls: string[] = [];
    const token = 'secret-token-123';
    host = createHttpServer();
    lifeline = createServer({ authenticate: (context) => context.token === token && { user: 'u' } });
    lifeline.attach(host);
    host.on('request', (req) => urls.push(req.url ?? ''));
    host.on('upgrade', (req) => urls.push(req.url ?? ''));
    await new Promise<void>((resolve) => host!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(host.address() as AddressInfo).port}/rt`;
    for (const transport of transports) {
      const c = await connectRaw(transport, url, { token });
      await c.send([{ type: 'sub', channel: 'a' }]);
      await c.frame('subscribed');
      c.close();
    }
    expect(urls.length).toBeGreaterThanOrEqual(6);
    expect(urls.filter((u) => u.includes(token))).toEqual([]);
  });
});

describe.each(transports)('%s malformed input', (transport) => {
  it('answers bad JSON, non-arrays, unknown types and wrong fields with errors and goes on', async () => {
    const { url } = await start();
    const c = await connectRaw(transport, url);
    const other = await connectRaw(transport, url);
    const http400 = transport === 'websocket' ? 101 : 400;
    expect(await c.send('{not json')).toBe(http400);
    expect(await c.send('{"type":"ping"}')).toBe(http400);
    if (transport === 'websocket') {
      expect(await c.frame('error')).toMatchObject({ code: 'BAD_JSON' });
      expect(await c.frame('error')).toMatchObject({ code: 'BAD_FRAME' });
    }
    await c.send([
      { type: 'nope' },
      42,
      null,
      [],
      { type: 7 },
      { type: 'sub', channel: 'ok', since: { epoch: 'e', seq: -1 } },
      { type: 'sub', channel: '' },
      { type: 'pub', id: 'p1', channel: 'c' },
      { type: 'pub', id: 'x'.repeat(65), channel: 'c', data: 1 },
      { type: 'hello', v: 1 },
      { type: 'ping' },
    ]);
    const errors = [];
    for (let i = 0; i < 10; i++) errors.push(await c.frame('error'));
    expect(errors.map((e) => e.code)).toEqual([
      'UNKNOWN_TYPE',
      'BAD_FRAME',
      'BAD_FRAME',
      'BAD_FRAME',
      'BAD_FRAME',
      'BAD_FRAME',
      'BAD_FRAME',
      'BAD_FRAME',
      'BAD_FRAME',
      'BAD_FRAME',
    ]);
    expect(errors[5]).toMatchObject({ channel: 'ok' });
    expect(errors[7]).toMatchObject({ id: 'p1', channel: 'c' });
    expect(errors[8]).not.toHaveProperty('id');
    await c.frame('pong');
    await other.send([{ type: 'ping' }]);
    await other.frame('pong');
  });

  it('ignores __proto__ keys: no prototype pollution, data carried as plain JSON', async () => {
    const { url } = await start();
    const c = await connectRaw(transport, url);
    const evil = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}';
    await c.send(
      `[{"type":"sub","channel":"p","__proto__":{"polluted":true}},` +
        `{"type":"sub","channel":"__proto__","since":{"epoch":"e","seq":0,"__proto__":{"polluted":true}}},` +
        `{"type":"pub","id":"__proto__","channel":"p","data":${evil},"__proto__":{"polluted":true}},` +
        `{"type":"__proto__"},{"type":"constructor"},{"type":"toString"}]`,
    );
    // Answers in any order: publishes run on their own chain beside the other frames.
    const all = () => c.messages.flat();
    const types = () => all().map((f) => (f.type === 'error' ? f.code : f.type));
    await until(
      () => types().includes('ack') && types().includes('msg') && types().filter((t) => t === 'UNKNOWN_TYPE').length === 3,
      5000,
      'every answer',
    );
    expect(all()).toContainEqual(expect.objectContaining({ type: 'subscribed', channel: 'p' }));
    expect(all()).toContainEqual(expect.objectContaining({ type: 'gap', channel: '__proto__' }));
    expect(all()).toContainEqual(expect.objectContaining({ type: 'ack', id: '__proto__' }));
    const msg = all().find((f) => f.type === 'msg') as Extract<ServerFrame, { type: 'msg' }>;
    expect(JSON.stringify(msg.data)).toBe(evil);
    expect(polluted()).toBe(false);
    const other = await connectRaw(transport, url);
    await other.send([{ type: 'sub', channel: 'p', since: { epoch: msg.epoch, seq: 0 } }]);
    expect(JSON.stringify((await other.frame('msg')).data)).toBe(evil);
  });

  it('survives a flood of sub frames: maxSubscriptions holds, others are served', async () => {
    const { url, server } = await start({ maxSubscriptions: 100 });
    const c = await connectRaw(transport, url);
    const other = await connectRaw(transport, url);
    for (let m = 0; m < 10; m++) {
      await c.send(Array.from({ length: 100 }, (_, i) => ({ type: 'sub', channel: `flood-${m}-${i}` })));
    }
    await c.send([{ type: 'ping' }]);
    await c.frame('pong', undefined, 15_000);
    const frames = c.messages.flat();
    expect(frames.filter((f) => f.type === 'subscribed')).toHaveLength(100);
    expect(frames.filter((f) => f.type === 'error' && f.code === 'TOO_MANY_SUBSCRIPTIONS')).toHaveLength(900);
    await other.send([{ type: 'sub', channel: 'flood-0-0' }]);
    await other.frame('subscribed');
    await server.publish('flood-0-0', 'still here');
    expect((await other.frame('msg')).data).toBe('still here');
  });
});

describe('publish API body', () => {
  it('ignores __proto__ keys in the HTTP publish body', async () => {
    const { url, server } = await start({ apiKey: 'k' });
    const res = await http(`${url}/publish`, {
      method: 'POST',
      headers: { Authorization: 'Bearer k' },
      body: '{"__proto__":{"polluted":true},"channel":"c","data":{"__proto__":{"polluted":true}}}',
    });
    expect(res).toMatchObject({ status: 200, body: { channel: 'c', seq: 1 } });
    expect(polluted()).toBe(false);
    expect((await server.publish('c', 2)).seq).toBe(2);
  });
});

describe.each(['sse', 'longpoll'] as const)('%s connection key', (transport) => {
  it('refuses /send and /poll that know the cid but not the key: a URL read from a log is no way in', async () => {
    const { url, server } = await start();
    const c = await connectRaw(transport, url);
    const pub = JSON.stringify([{ type: 'pub', id: 'intruder', channel: 'victim', data: 'forged' }]);
    for (const headers of [{}, { Authorization: 'Bearer wrong-key-wrong-key-wrong-key-00' }] as Record<string, string>[]) {
      expect(await http(`${url}/send?cid=${c.cid}`, { method: 'POST', headers, body: pub })).toMatchObject({
        status: 404,
        body: { error: { code: 'UNKNOWN_CONNECTION' } },
      });
      expect(await http(`${url}/poll?cid=${c.cid}&ack=0`, { headers })).toMatchObject({
        status: 404,
        body: { error: { code: 'UNKNOWN_CONNECTION' } },
      });
    }
    // Nothing was published in the victim's name, and the connection itself still works with its key.
    expect((await server.publish('victim', 'first')).seq).toBe(1);
    await c.send([{ type: 'ping' }]);
    await c.frame('pong');
    expect(c.authorization).toMatch(/^Bearer \S{32}$/);
  });
});
