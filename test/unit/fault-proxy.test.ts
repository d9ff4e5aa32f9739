import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { startFaultProxy, type FaultProxy } from '../../e2e/fault-proxy.js';

// The upstream: WebSocket echo on /ws, an SSE stream on /sse that writes one event per
// `push()`, and /echo answering with the request's headers.
interface Upstream {
  url: string;
  sseStreams: http.ServerResponse[];
  close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const sseStreams: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/sse')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      sseStreams.push(res);
      return;
    }
    if (req.url === '/ws') {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('upgrade required');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.headers));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => socket.on('message', (data) => socket.send(String(data))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sseStreams,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves with what happened first to a WebSocket: it opened, or the handshake answered a status. */
function handshake(url: string): Promise<{ socket: WebSocket; outcome: 'open' | number | 'error' }> {
  const socket = new WebSocket(url);
  return new Promise((resolve) => {
    socket.once('open', () => resolve({ socket, outcome: 'open' }));
    socket.once('unexpected-response', (_req, res) => resolve({ socket, outcome: res.statusCode ?? 0 }));
    socket.once('error', () => resolve({ socket, outcome: 'error' }));
  });
}

const nextMessage = (socket: WebSocket) => new Promise<string>((resolve) => socket.once('message', (data) => resolve(String(data))));
const closed = (socket: WebSocket) => new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens an SSE request through the proxy and collects the body as it arrives. */
function openStream(url: string) {
  const received: string[] = [];
  let status = 0;
  const request = http.get(url, { headers: { accept: 'text/event-stream' } });
  const ready = new Promise<void>((resolve) => {
    request.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => received.push(chunk));
      resolve();
    });
  });
  request.on('error', () => undefined);
  return { received, ready, status: () => status, request };
}

describe('fault proxy', () => {
  let upstream: Upstream;
  let proxy: FaultProxy;

  beforeEach(async () => {
    upstream = await startUpstream();
    proxy = await startFaultProxy({ target: upstream.url });
  });
  afterEach(async () => {
    await proxy.close();
    await upstream.close();
  });

  const wsUrl = () => `${proxy.url.replace('http', 'ws')}/ws`;

  it('forwards HTTP with the Host header kept and tunnels WebSockets in pass mode', async () => {
    const headers = (await (await fetch(`${proxy.url}/echo`)).json()) as Record<string, string>;
    expect(headers.host).toBe(`127.0.0.1:${proxy.port}`);
    const { socket, outcome } = await handshake(wsUrl());
    expect(outcome).toBe('open');
    socket.send('hi');
    expect(await nextMessage(socket)).toBe('hi');
    socket.close();
    expect(proxy.stats).toMatchObject({ forwarded: 1, upgrades: 1 });
  });

  it('refuses upgrades with 403 and relays the server answer when the Upgrade header is stripped', async () => {
    proxy.set({ websocket: 'refuse' });
    expect((await handshake(wsUrl())).outcome).toBe(403);
    proxy.set({ websocket: 'strip' });
    expect((await handshake(wsUrl())).outcome).toBe(426);
    expect(proxy.stats).toMatchObject({ refusedUpgrades: 1, strippedUpgrades: 1, upgrades: 0 });
  });

  it('blackholes upgrades: no answer at all until the proxy closes', async () => {
    proxy.set({ websocket: 'blackhole' });
    const attempt = handshake(wsUrl());
    let settled = false;
    void attempt.then(() => (settled = true));
    await expect.poll(() => proxy.stats.blackholed, { timeout: 5000 }).toBe(1);
    await wait(300);
    expect(settled).toBe(false);
    await proxy.close();
    expect((await attempt).outcome).toBe('error');
  });

  it('holds SSE bodies until the threshold, and refuses SSE with 502', async () => {
    proxy.set({ sse: 'buffer', sseBufferBytes: 64 });
    const stream = openStream(`${proxy.url}/sse`);
    await stream.ready;
    expect(stream.status()).toBe(200);
    upstream.sseStreams[0]!.write('data: one\n\n');
    await wait(150);
    expect(stream.received.join('')).toBe('');
    upstream.sseStreams[0]!.write(`data: ${'x'.repeat(64)}\n\n`);
    await expect.poll(() => stream.received.join('')).toBe(`data: one\n\ndata: ${'x'.repeat(64)}\n\n`);
    stream.request.destroy();

    proxy.set({ sse: 'refuse' });
    const refused = await fetch(`${proxy.url}/sse?cid=1`);
    expect(refused.status).toBe(502);
    expect(proxy.stats).toMatchObject({ bufferedSse: 1, refusedSse: 1 });
  });

  it('passes SSE events through at once in pass mode', async () => {
    const stream = openStream(`${proxy.url}/sse`);
    await stream.ready;
    upstream.sseStreams[0]!.write('data: one\n\n');
    await expect.poll(() => stream.received.join('')).toBe('data: one\n\n');
    stream.request.destroy();
  });

  it('kills every open exchange at both ends', async () => {
    const a = await handshake(wsUrl());
    const b = await handshake(wsUrl());
    const stream = openStream(`${proxy.url}/sse`);
    await stream.ready;
    const codes = Promise.all([closed(a.socket), closed(b.socket)]);
    const ended = new Promise<void>((resolve) => stream.request.on('close', () => resolve()));
    expect(proxy.killAll(['websocket'])).toBe(2);
    expect(await codes).toEqual([1006, 1006]);
    expect(proxy.killAll()).toBe(1);
    await ended;
    expect(proxy.stats.kills).toBe(3);
  });

  it('delivers each server message twice in duplicate mode, whole even when large', async () => {
    proxy.set({ duplicateWebSocketMessages: true });
    const { socket, outcome } = await handshake(wsUrl());
    expect(outcome).toBe('open');
    const got: string[] = [];
    socket.on('message', (data) => got.push(String(data)));
    const big = 'x'.repeat(70_000);
    for (const text of ['a', big, 'b']) socket.send(text);
    await expect.poll(() => got.length).toBe(6);
    expect(got.map((text) => (text === big ? 'big' : text))).toEqual(['a', 'a', 'big', 'big', 'b', 'b']);
    expect(proxy.stats.duplicated).toBe(3);
    socket.close();
  });

  it('stalls open exchanges silently while new ones pass', async () => {
    const stalled = await handshake(wsUrl());
    expect(proxy.stallAll()).toBe(1);
    let got = 0;
    stalled.socket.on('message', () => got++);
    stalled.socket.send('lost');
    const fresh = await handshake(wsUrl());
    fresh.socket.send('kept');
    expect(await nextMessage(fresh.socket)).toBe('kept');
    await wait(100);
    expect({ got, state: stalled.socket.readyState }).toEqual({ got: 0, state: WebSocket.OPEN });
    stalled.socket.terminate();
    fresh.socket.close();
  });

  it('kills random exchanges at the given rate, up to max', async () => {
    const sockets = await Promise.all([handshake(wsUrl()), handshake(wsUrl()), handshake(wsUrl())]);
    const codes = sockets.map(({ socket }) => closed(socket));
    proxy.killRandomly({ everyMs: 20, max: 2 });
    const first = await Promise.race(codes);
    expect(first).toBe(1006);
    await expect.poll(() => proxy.stats.kills).toBe(2);
    await wait(100);
    expect(proxy.stats.kills).toBe(2);
    // The second kill's close may still be on its way to the client.
    await expect.poll(() => sockets.filter(({ socket }) => socket.readyState === WebSocket.OPEN).length, { timeout: 5000 }).toBe(1);
  });

  it('adds latency in each direction and keeps order', async () => {
    proxy.set({ latency: 80 });
    const started = Date.now();
    const { socket, outcome } = await handshake(wsUrl());
    expect(outcome).toBe('open');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    const got: string[] = [];
    socket.on('message', (data) => got.push(String(data)));
    const sent = Date.now();
    for (const word of ['a', 'b', 'c']) socket.send(word);
    await expect.poll(() => got.length, { timeout: 5000 }).toBe(3);
    expect(got).toEqual(['a', 'b', 'c']);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(150);
    socket.close();
  });

  it('refuses exchanges beyond maxLinks with 503', async () => {
    await proxy.close();
    proxy = await startFaultProxy({ target: upstream.url, maxLinks: 1 });
    const first = await handshake(wsUrl());
    expect(first.outcome).toBe('open');
    expect((await handshake(wsUrl())).outcome).toBe(503);
    first.socket.close();
  });

  it('serves local routes without forwarding them', async () => {
    await proxy.close();
    proxy = await startFaultProxy({
      target: upstream.url,
      serve: (req, res) => req.url === '/page' && (res.end('local'), true),
    });
    expect(await (await fetch(`${proxy.url}/page`)).text()).toBe('local');
    expect(proxy.stats.forwarded).toBe(0);
  });
});
