// Issue 11's attacks, each at the size that showed it: one client must never take the server,
// or any other client, down.
import { request } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { ServerFrame } from '../../src/protocol/index.js';
import type { ServerOptions } from '../../src/server.js';
import WebSocket from 'ws';
import { connectRaw, http, startServer, transports, until, type RawClient, type TestServer } from '../helpers/server.js';

let t: TestServer | undefined;
const start = async (options: ServerOptions = {}) => (t = await startServer(options));
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** JSON text of arrays nested `levels` deep around `inner`. */
const nested = (levels: number, inner = '1') => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;

describe('deep JSON', () => {
  it.each(transports)(
    '%s: a frame nested thousands of levels in a message over maxMessageSize is refused alone; the server and others go on',
    async (transport) => {
      const { url, server } = await start();
      const bystander = await connectRaw('websocket', url);
      await bystander.send([{ type: 'sub', channel: 'c' }]);
      await bystander.frame('subscribed');
      const attacker = await connectRaw(transport, url);
      // Over 64 KiB in all, so the server sizes each frame (which encodes it again).
      const padding = JSON.stringify({ type: 'pub', id: 'pad', channel: 'c', data: 'x'.repeat(60_000) });
      const deep = `{"type":"pub","id":"deep","channel":"c","data":${nested(30_000)}}`;
      const status = await attacker.send(`[${deep},${padding}]`);
      expect(status === 101 || status === 204).toBe(true);
      const refused = await attacker.frame('error', (e) => e.id === 'deep');
      expect(refused.code).toBe('BAD_JSON');
      expect(refused.message).toContain('maxJsonDepth');
      await attacker.frame('ack', (a) => a.id === 'pad');
      await bystander.frame('msg', (m) => m.seq === 1);
      // Nothing else was stored, and everyone is still served.
      expect((await server.publish('c', 'after')).seq).toBe(2);
      await bystander.frame('msg', (m) => m.seq === 2 && m.data === 'after');
      await attacker.send([{ type: 'ping' }]);
      await attacker.frame('pong');
    },
  );

  it.each(transports)('%s: a small publish nested 6,000 levels is never stored, so later subscribers are served', async (transport) => {
    const { url, server } = await start();
    const attacker = await connectRaw(transport, url);
    await attacker.send(`[{"type":"pub","id":"deep","channel":"c","data":${nested(6_000)}}]`);
    expect((await attacker.frame('error', (e) => e.id === 'deep')).code).toBe('BAD_JSON');
    await server.publish('c', 'fine');
    for (const kind of transports) {
      const reader = await connectRaw(kind, url);
      await reader.send([{ type: 'sub', channel: 'c', since: { epoch: (await server.publish('c', kind)).epoch, seq: 0 } }]);
      await reader.frame('msg', (m) => m.data === kind);
      reader.close();
    }
  });

  it('the first WebSocket message (hello and a deep publish) is screened the same way', async () => {
    const { url } = await start();
    const c = await connectRaw('websocket', url, { hello: false });
    await c.send(`[{"type":"hello","v":1},{"type":"pub","id":"deep","channel":"c","data":${nested(10_000)}},{"type":"ping"}]`);
    await c.frame('welcome');
    expect((await c.frame('error', (e) => e.id === 'deep')).code).toBe('BAD_JSON');
    await c.frame('pong');
  });

  it('accepts data nested up to maxJsonDepth - 1 levels and refuses one level more', async () => {
    const { url } = await start({ maxJsonDepth: 10 });
    const c = await connectRaw('websocket', url);
    await c.send(
      `[{"type":"pub","id":"fits","channel":"c","data":${nested(9)}},{"type":"pub","id":"over","channel":"c","data":${nested(10)}}]`,
    );
    // Refusals are sent as the message is read; the ack follows the publish.
    expect((await c.frame('error', (e) => e.id === 'over')).code).toBe('BAD_JSON');
    await c.frame('ack', (a) => a.id === 'fits');
  });

  it('answers deep JSON over HTTP with 400 BAD_JSON: the publish API, /connect, and server.publish throws a TypeError', async () => {
    const { url, server } = await start({ apiKey: 'k' });
    for (const levels of [100, 30_000, 100_000]) {
      const res = await http(`${url}/publish`, {
        method: 'POST',
        headers: { Authorization: 'Bearer k' },
        body: `{"channel":"c","data":${nested(levels)}}`,
      });
      // 100,000 levels is over maxMessageSize: 413 says so before anything is parsed.
      if (levels * 2 > 65_536) expect(res.status).toBe(413);
      else expect(res).toMatchObject({ status: 400, body: { error: { code: 'BAD_JSON' } } });
    }
    const deepBody = `{"channel":"c","data":${nested(30_000)}}`;
    expect(deepBody.length).toBeLessThan(65_536);
    expect(await http(`${url}/publish`, { method: 'POST', headers: { Authorization: 'Bearer k' }, body: deepBody })).toMatchObject({
      status: 400,
      body: { error: { code: 'BAD_JSON' } },
    });
    expect(await http(`${url}/connect`, { method: 'POST', body: `{"v":1,"transport":"sse","x":${nested(30_000)}}` })).toMatchObject({
      status: 400,
      body: { error: { code: 'BAD_JSON' } },
    });
    await expect(server.publish('c', JSON.parse(nested(10_000)))).rejects.toThrow(TypeError);
    expect((await http(`${url}/health`)).status).toBe(200);
  });

  it('/send with a wire message nested 100,000 levels is answered, not a 500, and the connection goes on', async () => {
    const { url } = await start();
    for (const transport of ['sse', 'longpoll'] as const) {
      const c = await connectRaw(transport, url);
      // The wire message itself is too deep: its one "frame" is refused alone, with BAD_JSON.
      expect(await c.send(nested(100_000))).toBe(204);
      const refusal = (await c.frame('error')) as Extract<ServerFrame, { type: 'error' }>;
      expect(refusal.code).toBe('BAD_JSON');
      await c.send([{ type: 'ping' }]);
      await c.frame('pong');
    }
  });
});

/** A promise with its resolve function, to hold a hook until the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

const pubs = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ type: 'pub', id: `p${from + i}`, channel: 'flood', data: from + i }));

describe('publish flood', () => {
  it.each(transports)('%s: publishing past publishBurst gets RATE_LIMITED then 1008; a bystander is served', async (transport) => {
    const { url, server } = await start({ publishRate: 100, publishBurst: 100 });
    const bystander = await connectRaw('websocket', url);
    await bystander.send([{ type: 'sub', channel: 'other' }]);
    await bystander.frame('subscribed');
    const flooder = await connectRaw(transport, url);
    await flooder.send(pubs(0, 100));
    await flooder.send(pubs(100, 100)).catch(() => 0);
    const refused = await flooder.frame('error', (e) => e.code === 'RATE_LIMITED');
    // No id: the publishes were not answered, so a client keeps them and resends them later.
    expect(refused.id).toBeUndefined();
    expect((await flooder.ended).code).toBe(1008);
    const acked = flooder.messages.flat().filter((f) => f.type === 'ack').length;
    expect(acked).toBeLessThanOrEqual(100);
    await server.publish('other', 'still here');
    await bystander.frame('msg', (m) => m.data === 'still here');
  });

  /** Cuts a connection from `localAddress` for RATE_LIMITED after one full burst of 100. */
  const cutFrom = async (url: string, localAddress: string) => {
    const first = await connectRaw('websocket', url, { localAddress });
    await first.send(pubs(0, 100));
    await first.frame('ack', (a) => a.id === 'p99');
    await first.send(pubs(100, 100));
    await first.frame('error', (e) => e.code === 'RATE_LIMITED');
    expect((await first.ended).code).toBe(1008);
  };

  it('a cut address is refused new connections (429 RATE_LIMITED, Retry-After) until its bucket holds a tenth of publishBurst; another address connects', async () => {
    // One token a second: ten seconds before the address may connect again, however slow this machine is.
    const { url } = await start({ publishRate: 1, publishBurst: 100 });
    await cutFrom(url, '127.0.0.2');
    const upgrade = await new Promise<{ status: number | undefined; retryAfter: string | undefined }>((resolve, reject) => {
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { localAddress: '127.0.0.2' });
      ws.on('unexpected-response', (_req, res) => {
        resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] as string | undefined });
        res.resume();
        ws.terminate();
      });
      ws.on('open', () => reject(new Error('the upgrade was accepted')));
      ws.on('error', () => undefined);
    });
    expect(upgrade.status).toBe(429);
    expect(Number(upgrade.retryAfter)).toBeGreaterThanOrEqual(1);
    const connect = await new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
      const req = request(`${url}/connect`, { method: 'POST', localAddress: '127.0.0.2' }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ v: 1, transport: 'sse' }));
    });
    expect(connect.status).toBe(429);
    expect(JSON.parse(connect.body).error.code).toBe('RATE_LIMITED');
    const other = await connectRaw('websocket', url, { localAddress: '127.0.0.3' });
    await other.send(pubs(300, 100));
    await other.frame('ack', (a) => a.id === 'p399');
  });

  it('once let in again, a connection of the cut address starts from the spent bucket, not a new burst', async () => {
    // 20 a second: let in again after half a second (10 tokens), a burst of 100 only after 5 s.
    const { url } = await start({ publishRate: 20, publishBurst: 100 });
    await cutFrom(url, '127.0.0.2');
    let again: RawClient | undefined;
    for (let attempt = 0; attempt < 40 && !again; attempt++) {
      again = await connectRaw('websocket', url, { localAddress: '127.0.0.2' }).catch(() => undefined);
      if (!again) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(again).toBeDefined();
    await again!.send(pubs(200, 100));
    await again!.frame('error', (e) => e.code === 'RATE_LIMITED');
    expect((await again!.ended).code).toBe(1008);
    expect(again!.messages.flat().some((f) => f.type === 'ack')).toBe(false);
  });

  it('a client within publishRate keeps its connection', async () => {
    const { url } = await start({ publishRate: 1000, publishBurst: 100 });
    const c = await connectRaw('websocket', url);
    for (let round = 0; round < 3; round++) {
      await c.send(pubs(round * 100, 100));
      await c.frame('ack', (a) => a.id === `p${round * 100 + 99}`);
      // 100 tokens come back in 100 ms at 1000/s.
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    expect(c.messages.flat().some((f) => f.type === 'error' || f.type === 'bye')).toBe(false);
  });
});

describe('bytes in flight inbound', () => {
  it.each(transports)(
    '%s: more than maxInboundBytes waiting behind a slow authorize closes with 1008; the first message always goes',
    async (transport) => {
      const held = gate();
      const { url } = await start({
        maxInboundBytes: 4096,
        authorize: async (_principal, channel) => {
          if (channel === 'slow') await held.opened;
          return true;
        },
      });
      const c = await connectRaw(transport, url);
      // Alone, this 6 KB message is over the budget, and it is still taken: nothing waits.
      await c.send([{ type: 'sub', channel: 'slow' }, ...pubs(0, 3).map((p) => ({ ...p, data: 'x'.repeat(2000) }))]);
      await c.send([{ type: 'pub', id: 'more', channel: 'c', data: 'y'.repeat(2000) }]).catch(() => 0);
      expect((await c.ended).code).toBe(1008);
      held.open();
    },
  );

  it('what is handled is given back: a client that waits for its answers never hits the budget', async () => {
    const { url } = await start({ maxInboundBytes: 4096 });
    const c = await connectRaw('websocket', url);
    for (let i = 0; i < 20; i++) {
      await c.send([{ type: 'pub', id: `big${i}`, channel: 'c', data: 'z'.repeat(3000) }]);
      await c.frame('ack', (a) => a.id === `big${i}`);
    }
    expect(c.messages.flat().some((f) => f.type === 'bye')).toBe(false);
  });
});

describe('bytes per second per address', () => {
  const big = (from: number, count: number) => pubs(from, count).map((p) => ({ ...p, data: 'x'.repeat(60_000) }));

  it('an address over maxInboundRatePerIp is read no faster than its budget, loses nothing, and other addresses go on', async () => {
    const { url } = await start({ maxInboundRatePerIp: 65_536 });
    const heavy = await connectRaw('websocket', url, { localAddress: '127.0.0.2' });
    const light = await connectRaw('websocket', url, { localAddress: '127.0.0.3' });
    const started = Date.now();
    // 300 KB: the first 64 KiB at once, the rest at 64 KiB a second, so at least 3.5 s.
    for (let i = 0; i < 5; i++) await heavy.send(big(i, 1));
    await light.send(pubs(100, 1));
    await light.frame('ack', (a) => a.id === 'p100');
    const lightAcked = Date.now() - started;
    await heavy.frame('ack', (a) => a.id === 'p4', 15_000);
    const heavyDone = Date.now() - started;
    expect(heavyDone).toBeGreaterThanOrEqual(3000);
    expect(lightAcked).toBeLessThan(heavyDone);
    const acks = heavy.messages
      .flat()
      .filter((f) => f.type === 'ack')
      .map((f) => (f as { id: string }).id);
    expect(acks).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(heavy.messages.flat().some((f) => f.type === 'error' || f.type === 'bye')).toBe(false);
  }, 20_000);

  it('refused bodies count too: after a 404 /send of 240 KB, the address waits before its next body is handled', async () => {
    const { url } = await start({ maxInboundRatePerIp: 65_536 });
    const c = await connectRaw('longpoll', url);
    const started = Date.now();
    const refused = await fetch(`${url}/send?cid=nobody`, { method: 'POST', body: JSON.stringify(big(0, 4)) });
    expect(refused.status).toBe(404);
    await refused.arrayBuffer();
    expect(await c.send(pubs(10, 1))).toBe(204);
    // 240 KB drained from one address: the first 64 KiB at once, then 64 KiB a second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
  }, 20_000);

  it('long polling: /send bodies are metered the same way', async () => {
    const { url } = await start({ maxInboundRatePerIp: 65_536 });
    const c = await connectRaw('longpoll', url);
    const started = Date.now();
    const sends = Array.from({ length: 4 }, (_, i) => c.send(big(i, 1)));
    expect(await Promise.all(sends)).toEqual([204, 204, 204, 204]);
    await c.frame('ack', (a) => a.id === 'p3', 15_000);
    // 240 KB from one address: the first 64 KiB at once, then 64 KiB a second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
  }, 20_000);
});

describe('history budgets (memory broker)', () => {
  it.each(transports)(
    '%s: history over maxTotalHistoryBytes is evicted oldest first, and a resume from before it gets a gap',
    async (transport) => {
      const { url, server } = await start({ maxTotalHistoryBytes: 100_000 });
      let epoch = '';
      for (let i = 1; i <= 10; i++) ({ epoch } = await server.publish('big', 'x'.repeat(30_000)));
      const c = await connectRaw(transport, url);
      await c.send([{ type: 'sub', channel: 'big', since: { epoch, seq: 1 } }]);
      const gap = await c.frame('gap');
      expect(gap).toMatchObject({ reason: 'window', seq: 7, from: { epoch, seq: 1 } });
      await c.frame('msg', (m) => m.seq === 10);
      expect(
        c.messages
          .flat()
          .filter((f) => f.type === 'msg')
          .map((f) => (f as { seq: number }).seq),
      ).toEqual([8, 9, 10]);
    },
  );

  it('channels past maxChannels evict idle ones; a resume of an evicted channel gets a gap, never an old seq again', async () => {
    const { url, server } = await start({ maxChannels: 10 });
    const { epoch } = await server.publish('first', 'old');
    for (let i = 0; i < 20; i++) await server.publish(`spam-${i}`, i);
    const c = await connectRaw('websocket', url);
    await c.send([{ type: 'sub', channel: 'first', since: { epoch, seq: 1 } }]);
    const gap = await c.frame('gap');
    expect(gap.reason).toBe('window');
    const next = await server.publish('first', 'new');
    expect(next.seq).toBeGreaterThan(1);
    expect((await c.frame('msg')).data).toBe('new');
  });
});

/** A raw TCP socket to the server, resolving when connected; `closed` settles when the server ends it. */
async function rawSocket(url: string): Promise<{ socket: Socket; closed: Promise<string> }> {
  const { port } = new URL(url);
  const socket = createConnection({ host: '127.0.0.1', port: Number(port) });
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  onTestFinished(() => void socket.destroy());
  return { socket, closed };
}

describe('sockets and slow requests', () => {
  it('a slowloris socket (headers never finished) is closed within about headersTimeout', async () => {
    const { url } = await start({ headersTimeout: 500, requestTimeout: 1000 });
    const { socket, closed } = await rawSocket(url);
    socket.write('GET /rt/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const trickle = setInterval(() => socket.write('X-Slow: 1\r\n'), 100);
    const startedAt = Date.now();
    const answer = await closed;
    clearInterval(trickle);
    expect(Date.now() - startedAt).toBeLessThan(3000);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('maxSocketsPerIp: one socket too many from an address is answered 429 and closed; a freed one lets the next in', async () => {
    const { url } = await start({ maxSocketsPerIp: 3 });
    const held = [await rawSocket(url), await rawSocket(url), await rawSocket(url)];
    const extra = await rawSocket(url);
    expect(await extra.closed).toMatch(/^HTTP\/1\.1 429[\s\S]*TOO_MANY_CONNECTIONS/);
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const next = await rawSocket(url);
    next.socket.write('GET /rt/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(await next.closed).toMatch(/^HTTP\/1\.1 200/);
  });

  it('long-poll tickets never polled expire after handshakeTimeout and give their address slot back', async () => {
    const { url } = await start({ handshakeTimeout: 300, maxConnectionsPerIp: 2 });
    const connect = () => http(`${url}/connect`, { method: 'POST', body: JSON.stringify({ v: 1, transport: 'longpoll' }) });
    const first = await connect();
    expect((await connect()).status).toBe(200);
    expect(await connect()).toMatchObject({ status: 429, body: { error: { code: 'TOO_MANY_CONNECTIONS' } } });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await connect()).status).toBe(200);
    // The abandoned ticket is forgotten.
    const { cid, key } = first.body as { cid: string; key: string };
    const late = await http(`${url}/poll?cid=${cid}&ack=0`, { headers: { Authorization: `Bearer ${key}` } });
    expect(late).toMatchObject({ status: 404, body: { error: { code: 'UNKNOWN_CONNECTION' } } });
  });

  it('a polled long-poll connection is not cut by the ticket expiry', async () => {
    const { url } = await start({ handshakeTimeout: 200, heartbeat: 2000 });
    const c = await connectRaw('longpoll', url);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await c.send([{ type: 'ping' }]);
    await c.frame('pong');
  });
});

describe('restart herd', () => {
  it('the bye for 1012 carries the window to spread reconnects over, sized by the connections held, on every transport', async () => {
    const { url, server } = await start({ restartReconnectRate: 1 });
    const clients = [];
    for (let i = 0; i < 8; i++) for (const transport of transports) clients.push(await connectRaw(transport, url));
    // Long polls get their bye through a pending poll: let each make its next one.
    await new Promise((resolve) => setTimeout(resolve, 100));
    // 24 connections at 1 reconnect a second: a 24 s window.
    void server.close();
    for (const c of clients) {
      const bye = await c.frame('bye').catch((error: Error) => {
        throw new Error(`${c.transport}: ${error.message}`);
      });
      expect(bye, c.transport).toMatchObject({ code: 1012, spread: 24_000 });
    }
    t = undefined;
  });

  it('other byes carry no window', async () => {
    const { url } = await start({ publishRate: 1, publishBurst: 100 });
    const c = await connectRaw('websocket', url);
    await c.send(pubs(0, 100));
    await c.send(pubs(100, 1));
    const bye = await c.frame('bye');
    expect(bye.code).toBe(1008);
    expect(bye.spread).toBeUndefined();
  });
});

describe('slow consumer that keeps pinging', () => {
  it('a WebSocket that stops reading but keeps pinging is cut within about 2 × heartbeat; a reader that answers is kept', async () => {
    const heartbeat = 1000;
    const { url, server } = await start({ heartbeat });
    const subscribe = async () => {
      const c = await connectRaw('websocket', url);
      await c.send([{ type: 'sub', channel: 'firehose' }]);
      await c.frame('subscribed');
      return c;
    };
    const reader = await subscribe();
    const ws = reader.raw as import('ws').WebSocket;
    // The reader answers every ping, as the reference client does.
    ws.on('message', (data) => {
      if ((JSON.parse(String(data)) as ServerFrame[]).some((f) => f.type === 'ping')) ws.send('[{"type":"pong"}]');
    });
    const stopped = await subscribe();
    const stoppedWs = stopped.raw as import('ws').WebSocket;
    // Stops reading (the kernel buffers fill, slowly) but keeps pinging, so it never looks silent.
    (stoppedWs as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const pinger = setInterval(() => stoppedWs.send('[{"type":"ping"}]'), 200);
    // About 800 KB/s: in 4 s, less than the kernel would hold for the stopped reader on its own.
    const chunk = 'x'.repeat(8_000);
    const publisher = setInterval(() => void server.publish('firehose', chunk), 10);
    const startedAt = Date.now();
    try {
      await until(() => server.connections === 1, 4 * heartbeat + 2000, 'the stopped reader to be cut');
    } finally {
      clearInterval(publisher);
      clearInterval(pinger);
    }
    expect(Date.now() - startedAt).toBeLessThan(4 * heartbeat + 1000);
    // The reader is still served.
    await server.publish('firehose', 'last');
    await reader.frame('msg', (m) => m.data === 'last', 5000);
    expect(reader.messages.flat().some((f) => f.type === 'bye')).toBe(false);
  });
});

/**
 * POSTs `size` bytes the way a naive client does: the whole body first, reading nothing until
 * it is written. A server that closes before reading it all resets the socket: EPIPE or
 * ECONNRESET instead of the answer.
 */
async function postWhole(url: string, size: number, headers: Record<string, string> = {}, chunked = false): Promise<string> {
  const { pathname, search } = new URL(url);
  const { socket, closed } = await rawSocket(url);
  socket.pause();
  const head = Object.entries({
    Host: new URL(url).host,
    ...headers,
    ...(chunked ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': String(size) }),
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.write(`POST ${pathname}${search} HTTP/1.1\r\n${head}\r\n`);
  const chunk = Buffer.alloc(64 * 1024, 'x');
  for (let left = size; left > 0; left -= chunk.length) {
    const piece = chunk.subarray(0, Math.min(left, chunk.length));
    const framed = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
    await new Promise<void>((resolve, reject) => socket.write(framed, (error) => (error ? reject(error) : resolve())));
  }
  if (chunked) await new Promise<void>((resolve, reject) => socket.write('0\r\n\r\n', (error) => (error ? reject(error) : resolve())));
  socket.resume();
  return closed;
}

describe('bodies over the limit', () => {
  const tooLarge = /^HTTP\/1\.1 413[\s\S]*FRAME_TOO_LARGE/;

  it.each([false, true])(
    '/publish, /connect and /send answer 413, not a reset, to a client that writes it all first (chunked: %s)',
    async (chunked) => {
      const { url } = await start({ apiKey: 'k' });
      // 4 MB: far past the socket buffers, so an unread body would reset the connection.
      expect(await postWhole(`${url}/publish`, 4_000_000, { Authorization: 'Bearer k' }, chunked)).toMatch(tooLarge);
      expect(await postWhole(`${url}/connect`, 4_000_000, {}, chunked)).toMatch(tooLarge);
      const c = await connectRaw('longpoll', url);
      // /send takes maxMessageSize × maxFramesPerMessage (6.5 MB by default).
      expect(await postWhole(`${url}/send?cid=${c.cid}`, 8_000_000, { Authorization: c.authorization ?? '' }, chunked)).toMatch(tooLarge);
      // The connection and the server go on.
      await c.send([{ type: 'ping' }]);
      await c.frame('pong');
    },
  );
});
