// The backend HTTP API, health, mounting on a host server, options, and graceful shutdown.
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createServer, memoryBroker, type Broker, type LifelineServer, type ServerOptions } from '../../src/server.js';
import { connectRaw, http, startServer, until, type TestServer } from '../helpers/server.js';

let t: TestServer | undefined;
const start = async (options: ServerOptions = {}) => (t = await startServer(options));
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const post = (url: string, body: string, key?: string) =>
  http(`${url}/publish`, { method: 'POST', headers: key === undefined ? {} : { Authorization: `Bearer ${key}` }, body });

describe('POST {path}/publish', () => {
  it('publishes with the API key and answers { channel, seq, epoch }; a repeated id answers the original', async () => {
    const { url } = await start({ apiKey: 'k' });
    const sub = await connectRaw('websocket', url);
    await sub.send([{ type: 'sub', channel: 'c' }]);
    await sub.frame('subscribed');
    const first = await post(url, '{"channel":"c","data":1}', 'k');
    expect(first).toMatchObject({ status: 200, body: { channel: 'c', seq: 1, epoch: expect.any(String) } });
    expect((await post(url, '{"channel":"c","data":2,"id":"x"}', 'k')).body).toMatchObject({ seq: 2 });
    expect((await post(url, '{"channel":"c","data":2,"id":"x"}', 'k')).body).toMatchObject({ seq: 2 });
    expect((await post(url, '{"channel":"c","data":3}', 'k')).body).toMatchObject({ seq: 3 });
    expect([(await sub.frame('msg')).data, (await sub.frame('msg')).data, (await sub.frame('msg')).data]).toEqual([1, 2, 3]);
  });

  it('answers 401 without the right key', async () => {
    const { url } = await start({ apiKey: 'k' });
    expect(await post(url, '{"channel":"c","data":1}')).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    expect((await post(url, '{"channel":"c","data":1}', 'wrong')).status).toBe(401);
    expect((await post(url, '{"channel":"c","data":1}', 'kk')).status).toBe(401);
  });

  it('answers 400 with a message saying what is wrong', async () => {
    const { url } = await start({ apiKey: 'k' });
    expect(await post(url, 'nope', 'k')).toMatchObject({ status: 400, body: { error: { code: 'BAD_JSON' } } });
    for (const [body, field] of [
      ['[1]', 'object'],
      ['{"data":1}', 'channel'],
      ['{"channel":"c"}', 'data'],
      ['{"channel":"c","data":1,"id":7}', 'id'],
      [`{"channel":"${'c'.repeat(257)}","data":1}`, 'channel'],
    ]) {
      const res = await post(url, body!, 'k');
      expect(res, body).toMatchObject({ status: 400, body: { error: { code: 'BAD_FRAME', message: expect.stringContaining(field!) } } });
    }
  });

  it('answers 413 for a body over maxMessageSize, and 404 when no API key is configured', async () => {
    const { url } = await start({ apiKey: 'k', maxMessageSize: 1024 });
    const big = JSON.stringify({ channel: 'c', data: 'x'.repeat(2000) });
    expect(await post(url, big, 'k')).toMatchObject({ status: 413, body: { error: { code: 'FRAME_TOO_LARGE' } } });
    await t!.close();
    const off = await start();
    expect(await post(off.url, '{"channel":"c","data":1}', 'k')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });

  it('refuses a body that is not UTF-8 with 400 BAD_JSON on /publish and /send, and publishes nothing', async () => {
    const { url, server } = await start({ apiKey: 'k' });
    // "café" with a Latin-1 é: not UTF-8, which a lenient decoder would turn into U+FFFD.
    const latin1 = (text: string) => Buffer.concat([Buffer.from(text), Buffer.from([0xe9]), Buffer.from('"}')]);
    const publish = await http(`${url}/publish`, {
      method: 'POST',
      headers: { Authorization: 'Bearer k' },
      body: latin1('{"channel":"c","data":"caf'),
    });
    expect(publish).toMatchObject({ status: 400, body: { error: { code: 'BAD_JSON', message: 'Body is not UTF-8' } } });
    const c = await connectRaw('longpoll', url);
    const send = await http(`${url}/send?cid=${c.cid}`, {
      method: 'POST',
      headers: { Authorization: c.authorization! },
      body: latin1('[{"type":"pub","id":"p","channel":"c","data":"caf'),
    });
    expect(send).toMatchObject({ status: 400, body: { error: { code: 'BAD_JSON' } } });
    expect((await server.publish('c', 'first')).seq).toBe(1);
  });

  it('answers 503 BROKER_UNAVAILABLE when the broker fails', async () => {
    const broken: Broker = { ...memoryBroker(), publish: () => Promise.reject(new Error('down')) };
    const { url } = await start({ apiKey: 'k', broker: broken });
    expect(await post(url, '{"channel":"c","data":1}', 'k')).toMatchObject({
      status: 503,
      body: { error: { code: 'BROKER_UNAVAILABLE' } },
    });
  });
});

describe('GET {path}/health and routing', () => {
  it('reports status, connections and broker health', async () => {
    let ok = true;
    const { url } = await start({ broker: { ...memoryBroker(), health: () => (ok ? { ok } : { ok, detail: 'redis down' }) } });
    await connectRaw('sse', url);
    expect(await http(`${url}/health`)).toMatchObject({ status: 200, body: { status: 'ok', connections: 1, broker: { ok: true } } });
    ok = false;
    expect((await http(`${url}/health`)).body).toEqual({ status: 'degraded', connections: 1, broker: { ok: false, detail: 'redis down' } });
  });

  it('answers 404 NOT_FOUND for unknown endpoints and other paths, or hands those to `fallback`', async () => {
    const { url, origin } = await start();
    expect(await http(`${url}/nope`)).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect((await http(`${origin}/elsewhere`)).status).toBe(404);
    expect((await http(`${url}/connect`)).status).toBe(405);
    // Known endpoints: the wrong method is 405 with Allow; /ws without an upgrade is 426.
    for (const endpoint of ['/health', '/ws']) {
      const res = await http(`${url}${endpoint}`, { method: 'POST' });
      expect(res).toMatchObject({ status: 405, body: { error: { code: 'NOT_FOUND' } } });
      expect(res.headers.get('allow')).toBe('GET');
    }
    const plain = await http(`${url}/ws`);
    expect(plain).toMatchObject({ status: 426, body: { error: { code: 'NOT_FOUND' } } });
    expect(plain.headers.get('upgrade')).toBe('websocket');
    await t!.close();
    const withFallback = await start({ fallback: (_req, res) => res.end('fallback page') });
    expect((await http(`${withFallback.origin}/`)).body).toBe('fallback page');
  });

  it('publish() refuses data that is not JSON or over maxMessageSize, and the server goes on', async () => {
    const { url, server } = await start({ maxMessageSize: 1024 });
    const c = await connectRaw('websocket', url);
    await c.send([{ type: 'sub', channel: 'c' }]);
    await c.frame('subscribed');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const data of [circular, () => 1, 1n, Symbol('s')]) await expect(server.publish('c', data)).rejects.toThrow(TypeError);
    await expect(server.publish('c', 'x'.repeat(1024))).rejects.toThrow(RangeError);
    // What is stored is the JSON of the data: a toJSON is applied once, at publish.
    expect((await server.publish('c', { toJSON: () => 'as json' })).seq).toBe(1);
    expect(await c.frame('msg')).toMatchObject({ seq: 1, data: 'as json' });
    expect((await server.publish('c', 'ok')).seq).toBe(2);
    expect(await c.frame('msg')).toMatchObject({ seq: 2, data: 'ok' });
  });

  it('throws a clear TypeError for nonsense options', () => {
    expect(() => createServer({ path: 'rt' })).toThrow(/"path"/);
    expect(() => createServer({ heartbeat: -1 })).toThrow(TypeError);
    expect(() => createServer({ maxMessageSize: 1.5 })).toThrow(/"maxMessageSize"/);
    // Below what the reference client sends in one message when it resumes.
    expect(() => createServer({ maxFramesPerMessage: 99 })).toThrow(/"maxFramesPerMessage" must be a whole number from 100/);
    // A message of maxMessageSize must fit one wire message with its envelope.
    expect(() => createServer({ maxMessageSize: 1_048_576, maxBatchSize: 1_048_576 })).toThrow(
      /"maxBatchSize" must be a whole number from 1050624/,
    );
    // Unset, it rises to fit a larger maxMessageSize.
    void createServer({ maxMessageSize: 300_000 }).close();
    expect(() => createServer({ allowOrigins: 'https://a.example' as never })).toThrow(/"allowOrigins"/);
    expect(() => createServer({ authorize: 'yes' as never })).toThrow(/"authorize"/);
  });
});

describe('attach(httpServer)', () => {
  let host: Server | undefined;
  let lifeline: LifelineServer | undefined;
  let other: WebSocketServer | undefined;
  afterEach(async () => {
    await lifeline?.close();
    other?.close();
    await new Promise((resolve) => host?.close(resolve));
    host = lifeline = other = undefined;
  });

  it('serves its path and leaves other requests and upgrades to the host app', async () => {
    host = createHttpServer((_req, res) => res.end('host app'));
    lifeline = createServer({ path: '/live', apiKey: 'k' });
    lifeline.attach(host);
    other = new WebSocketServer({ noServer: true });
    host.on('upgrade', (req, socket, head) => {
      if (req.url === '/chat') other!.handleUpgrade(req, socket, head, (ws) => ws.send('host ws'));
    });
    await new Promise<void>((resolve) => host!.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
    expect((await http(`${origin}/`)).body).toBe('host app');
    expect((await http(`${origin}/livex`)).body).toBe('host app');
    expect((await http(`${origin}/live/health`)).body).toMatchObject({ status: 'ok' });
    expect((await post(`${origin}/live`, '{"channel":"c","data":1}', 'k')).body).toMatchObject({ seq: 1 });
    const c = await connectRaw('websocket', `${origin}/live`);
    await c.send([{ type: 'sub', channel: 'c', since: { epoch: (await lifeline.publish('c', 2)).epoch, seq: 0 } }]);
    expect((await c.frame('msg', (m) => m.seq === 2)).data).toBe(2);
    const hostWs = new WebSocket(`${origin.replace('http', 'ws')}/chat`);
    expect(String(await new Promise((resolve) => hostWs.once('message', resolve)))).toBe('host ws');
    hostWs.close();
  });
});

describe('close()', () => {
  it('closes WebSockets with bye 1012 and close code 1012, ends SSE with bye 1012, answers a pending poll with [bye], then resolves', async () => {
    const { url, server } = await start({ longPollHold: 10_000 });
    const ws = await connectRaw('websocket', url);
    const sse = await connectRaw('sse', url);
    const poller = await connectRaw('longpoll', url, { autoPoll: false });
    await poller.poll(0);
    const pending = poller.poll(1);
    // Room for the poll to reach the server before it closes (it is held for 10 s).
    await new Promise((resolve) => setTimeout(resolve, 200));
    await server.close();
    expect(server.connections).toBe(0);
    expect((await ws.ended).code).toBe(1012);
    // spread: the window to reconnect within, at least 8 s.
    expect(ws.messages.at(-1)).toEqual([{ type: 'bye', code: 1012, reason: expect.any(String), spread: 8000 }]);
    expect((await sse.ended).code).toBe(1012);
    expect(sse.messages.at(-1)).toEqual([{ type: 'bye', code: 1012, reason: expect.any(String), spread: 8000 }]);
    expect((await pending).body).toEqual([{ type: 'bye', code: 1012, reason: expect.any(String), spread: 8000 }]);
    t = undefined;
  });

  it('answers new requests with 503 while it waits for connections to go', async () => {
    const { url, server } = await start();
    const slow = await connectRaw('websocket', url);
    // A client that does not read never answers the close frame, so close() waits for the grace period.
    (slow.raw as WebSocket).pause();
    const closing = server.close();
    await until(() => server.connections === 0, 2000);
    expect(await http(`${url}/connect`, { method: 'POST', body: '{"v":1,"transport":"sse"}' })).toMatchObject({
      status: 503,
      body: { error: { code: 'SHUTTING_DOWN' } },
    });
    expect(await http(`${url}/health`)).toMatchObject({ status: 503, body: { status: 'stopping' } });
    await closing;
    t = undefined;
  });
});
