// Every server limit, enforced with its documented error, without harming other connections.
import type { IncomingMessage } from 'node:http';
import { connect as connectTcp } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { ServerOptions } from '../../src/server.js';
import { connectRaw, http, startServer, transports, until, upgradeStatus, type TestServer } from '../helpers/server.js';

let t: TestServer | undefined;
const start = async (options: ServerOptions = {}) => (t = await startServer(options));
afterEach(async () => {
  await t?.close();
  t = undefined;
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(transports)('%s limits', (transport) => {
  it('maxMessageSize: an oversized frame is refused by its id, the frames beside it go through, the connection lives', async () => {
    const { url, server } = await start({ maxMessageSize: 1024 });
    const c = await connectRaw(transport, url);
    // Over maxMessageSize as a whole, but only one frame is itself too large.
    const batch = [
      { type: 'pub', id: 'small1', channel: 'c', data: 'x'.repeat(600) },
      { type: 'pub', id: 'big', channel: 'c', data: 'x'.repeat(2000) },
      { type: 'pub', id: 'small2', channel: 'c', data: 'x'.repeat(600) },
    ];
    expect(await c.send(batch)).toBe(transport === 'websocket' ? 101 : 204);
    expect(await c.frame('error')).toMatchObject({ code: 'FRAME_TOO_LARGE', id: 'big', channel: 'c' });
    expect(await c.frame('ack', (f) => f.id === 'small1')).toMatchObject({ seq: 1 });
    expect(await c.frame('ack', (f) => f.id === 'small2')).toMatchObject({ seq: 2 });
    await c.send([{ type: 'ping' }]);
    await c.frame('pong');
    expect((await server.publish('c', 1)).seq).toBe(3);
  });

  it('a message over maxMessageSize × maxFramesPerMessage is refused whole (1009 / 413), other connections go on', async () => {
    const { url, server } = await start({ maxMessageSize: 1024 });
    const other = await connectRaw(transport, url);
    const c = await connectRaw(transport, url);
    // Over 1024 × 100 bytes in one message.
    const huge = JSON.stringify([{ type: 'pub', id: 'big', channel: 'c', data: 'x'.repeat(110_000) }]);
    if (transport === 'websocket') {
      await c.send(huge);
      expect((await c.ended).code).toBe(1009);
    } else {
      const res = await http(`${url}/send?cid=${c.cid}`, { method: 'POST', headers: { Authorization: c.authorization! }, body: huge });
      expect(res).toMatchObject({ status: 413, body: { error: { code: 'FRAME_TOO_LARGE' } } });
    }
    await other.send([{ type: 'ping' }]);
    await other.frame('pong');
    expect((await server.publish('c', 1)).seq).toBe(1);
  });

  it('a client that queues more than 16 × maxFramesPerMessage frames behind a slow authorize is closed with 1008, others go on', async () => {
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const { url, server } = await start({ authorize: async () => (await slow, true) });
    const other = await connectRaw(transport, url);
    const c = await connectRaw(transport, url);
    try {
      // 17 full messages: 1,700 frames waiting, over 16 × 100.
      for (let i = 0; i < 17; i++)
        await c.send(Array.from({ length: 100 }, (_, j) => ({ type: 'sub', channel: `c${i}-${j}` }))).catch(() => 0);
      expect((await c.ended).code).toBe(1008);
      await other.send([{ type: 'ping' }]);
      await other.frame('pong');
      expect(server.connections).toBe(1);
    } finally {
      release();
    }
  });

  it('maxConnectionsPerIp: one too many gets 429 TOO_MANY_CONNECTIONS; a closed one frees its slot', async () => {
    // A long poll is only known to be gone once it stops polling for heartbeat + longPollHold.
    const { url, server } = await start({
      maxConnectionsPerIp: 2,
      ...(transport === 'longpoll' ? { heartbeat: 200, longPollHold: 50 } : {}),
    });
    const first = await connectRaw(transport, url);
    await connectRaw(transport, url);
    if (transport === 'websocket') {
      const refused = await upgradeStatus(url);
      expect(refused.status).toBe(429);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'TOO_MANY_CONNECTIONS' } });
    } else {
      const refused = await http(`${url}/connect`, { method: 'POST', body: JSON.stringify({ v: 1, transport }) });
      expect(refused).toMatchObject({ status: 429, body: { error: { code: 'TOO_MANY_CONNECTIONS' } } });
    }
    first.close();
    await until(() => server.connections === 1, 3000, 'the closed connection to be noticed');
    const again = await connectRaw(transport, url);
    expect(again.cid).not.toBe('');
  });

  it('maxFramesPerMessage: a message with too many frames gets one TOO_MANY_FRAMES and none is processed', async () => {
    const { url } = await start({ maxFramesPerMessage: 120 });
    const c = await connectRaw(transport, url);
    await c.send(Array.from({ length: 121 }, () => ({ type: 'ping' })));
    expect(await c.frame('error')).toMatchObject({ code: 'TOO_MANY_FRAMES' });
    await c.send(Array.from({ length: 120 }, () => ({ type: 'ping' })));
    const next = await c.next();
    expect(next.every((f) => f.type === 'pong')).toBe(true);
    expect(c.messages.flat().filter((f) => f.type === 'pong')).toHaveLength(120);
  });

  it('maxSubscriptions: one channel too many gets TOO_MANY_SUBSCRIPTIONS; re-subscribing one held is fine', async () => {
    const { url } = await start({ maxSubscriptions: 3 });
    const c = await connectRaw(transport, url);
    await c.send(['a', 'b', 'c', 'd', 'a'].map((channel) => ({ type: 'sub', channel })));
    expect(await c.frame('error')).toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS', channel: 'd' });
    await c.send([{ type: 'ping' }]);
    await c.frame('pong');
    const subscribed = c.messages
      .flat()
      .filter((f) => f.type === 'subscribed')
      .map((f) => (f as { channel: string }).channel);
    expect(subscribed).toEqual(['a', 'b', 'c', 'a']);
  });

  it('maxSendBuffer: a slow consumer is dropped with 4003 while a fast one gets everything', async () => {
    const longPoll = transport === 'longpoll';
    const { url, server } = await start({ maxSendBuffer: longPoll ? 4096 : 256 * 1024 });
    const fast = await connectRaw(transport, url);
    const slow = await connectRaw(transport, url, longPoll ? { autoPoll: false } : {});
    for (const c of [fast, slow]) await c.send([{ type: 'sub', channel: 'firehose' }]);
    await fast.frame('subscribed');
    if (longPoll) {
      const first = (await slow.poll(0)).body as { type: string }[];
      if (!first.some((f) => f.type === 'subscribed')) await slow.poll(first.length);
    } else if (transport === 'websocket') {
      await slow.frame('subscribed');
      (slow.raw as WebSocket).pause();
    } else {
      await slow.frame('subscribed');
      (slow.raw as IncomingMessage).pause();
    }
    // Enough to pass 16 × maxSendBuffer, where a client that takes nothing is cut at once.
    const [count, size, gap] = longPoll ? [100, 1000, 5] : [200, 60 * 1024, 2];
    const payload = 'x'.repeat(size);
    for (let i = 0; i < count && server.connections === 2; i++) {
      await server.publish('firehose', payload);
      await sleep(gap);
    }
    await until(() => server.connections === 1, 5000, 'the slow consumer to be dropped');
    const { seq: lastSeq } = await server.publish('firehose', 'after');
    await fast.frame('msg', (m) => m.seq === lastSeq, 10_000);
    const delivered = fast.messages
      .flat()
      .filter((f) => f.type === 'msg')
      .map((f) => (f as { seq: number }).seq);
    expect(delivered).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    if (transport === 'websocket') {
      (slow.raw as WebSocket).resume();
      expect((await slow.ended).code).toBe(4003);
    } else if (longPoll) {
      const acked = slow.messages.flat().length;
      const { body } = await slow.poll(acked);
      expect(body).toEqual([{ type: 'bye', code: 4003, reason: expect.stringMatching(/slow consumer/) }]);
    } else {
      (slow.raw as IncomingMessage).resume();
      await slow.ended;
    }
  });
});

describe('handshakeTimeout', () => {
  it('closes a WebSocket that sends no hello with 4002', async () => {
    const { url } = await start({ handshakeTimeout: 100 });
    // Taken before connecting: the server's handshake timer starts at the upgrade.
    const started = Date.now();
    const c = await connectRaw('websocket', url, { hello: false });
    expect(await c.frame('error')).toMatchObject({ code: 'BAD_FRAME' });
    expect((await c.ended).code).toBe(4002);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
  });

  it('expires an unused SSE ticket (404 UNKNOWN_CONNECTION) and frees its IP slot', async () => {
    const { url } = await start({ handshakeTimeout: 100, maxConnectionsPerIp: 1 });
    const { body } = await http(`${url}/connect`, { method: 'POST', body: JSON.stringify({ v: 1, transport: 'sse' }) });
    const { cid } = body as { cid: string };
    expect((await http(`${url}/connect`, { method: 'POST', body: JSON.stringify({ v: 1, transport: 'sse' }) })).status).toBe(429);
    await sleep(200);
    expect(await http(`${url}/sse?cid=${cid}`)).toMatchObject({ status: 404, body: { error: { code: 'UNKNOWN_CONNECTION' } } });
    const c = await connectRaw('sse', url);
    // A ticket opens one stream only.
    expect((await http(`${url}/sse?cid=${c.cid}`)).status).toBe(404);
  });
});

describe('long polling', () => {
  it('holds an empty poll for min(longPollHold, heartbeat) and answers []', async () => {
    const { url } = await start({ longPollHold: 150, heartbeat: 60_000 });
    const c = await connectRaw('longpoll', url, { autoPoll: false });
    expect((await c.poll(0)).body).toMatchObject([{ type: 'welcome' }]);
    const started = Date.now();
    expect(await c.poll(1)).toEqual({ status: 200, body: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(120);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('is idempotent by ack, and a newer poll answers an older pending one with []', async () => {
    const { url, server } = await start({ longPollHold: 5000 });
    const c = await connectRaw('longpoll', url, { autoPoll: false });
    await c.poll(0);
    await c.send([{ type: 'sub', channel: 'n' }]);
    const subscribed = await c.poll(1);
    expect(subscribed.body).toMatchObject([{ type: 'subscribed', channel: 'n' }]);
    await server.publish('n', 'one');
    const first = await c.poll(2);
    expect(first.body).toMatchObject([{ type: 'msg', seq: 1 }]);
    expect(await c.poll(2)).toEqual(first);
    const older = c.poll(3);
    // Room for the older poll to reach the server first (it is held for 5 s).
    await sleep(200);
    const newer = c.poll(3);
    expect(await older).toEqual({ status: 200, body: [] });
    await server.publish('n', 'two');
    expect((await newer).body).toMatchObject([{ type: 'msg', seq: 2 }]);
    expect(await c.poll(1)).toMatchObject({ status: 400, body: { error: { code: 'BAD_FRAME' } } });
    expect(await c.poll(99)).toMatchObject({ status: 400, body: { error: { code: 'BAD_FRAME' } } });
  });

  it('closes a connection that stops polling for heartbeat + longPollHold', async () => {
    // 550 ms without a poll: room for a stall between poll 0 and the count just after it.
    const { url, server } = await start({ longPollHold: 50, heartbeat: 500 });
    const c = await connectRaw('longpoll', url, { autoPoll: false });
    await c.poll(0);
    expect(server.connections).toBe(1);
    await until(() => server.connections === 0, 5000, 'the idle long poll to be closed');
    expect((await c.poll(1)).body).toMatchObject([{ type: 'bye', code: 4004 }]);
  });
});

describe('handshake errors', () => {
  it('closes a WebSocket whose first frame is not hello with 1002', async () => {
    const { url } = await start();
    const c = await connectRaw('websocket', url, { hello: false });
    await c.send([{ type: 'sub', channel: 'x' }]);
    expect(await c.frame('error')).toMatchObject({ code: 'BAD_FRAME' });
    expect((await c.ended).code).toBe(1002);
  });

  it('refuses an unsupported version on every transport', async () => {
    const { url } = await start();
    const c = await connectRaw('websocket', url, { hello: false });
    await c.send([{ type: 'hello', v: 2 }]);
    expect(await c.frame('error')).toMatchObject({ code: 'UNSUPPORTED_VERSION' });
    expect((await c.ended).code).toBe(1002);
    const res = await http(`${url}/connect`, { method: 'POST', body: JSON.stringify({ v: 2, transport: 'sse' }) });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'UNSUPPORTED_VERSION' } } });
  });

  it('refuses a bad token with UNAUTHORIZED: close 4001 on WebSocket, 401 on /connect', async () => {
    const { url } = await start({
      authenticate: ({ token }) => {
        if (token !== 'ok') throw new Error('no');
        return 'user';
      },
    });
    const c = await connectRaw('websocket', url, { hello: false });
    await c.send([{ type: 'hello', v: 1, token: 'nope' }]);
    expect(await c.frame('error')).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await c.ended).code).toBe(4001);
    const res = await http(`${url}/connect`, { method: 'POST', body: JSON.stringify({ v: 1, transport: 'longpoll' }) });
    expect(res).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
  });
});

describe('an SSE client that stopped reading', () => {
  it('holds up neither server.close() nor its memory: its socket is cut a grace after its bye', async () => {
    const { url, server } = await start();
    // 12 MB of history, replayed to a client that never reads: it stays in the send buffer.
    let epoch = '';
    for (let i = 0; i < 1000; i++) epoch = (await server.publish('big', 'x'.repeat(12_000))).epoch;
    const ticket = (await (await fetch(`${url}/connect`, { method: 'POST', body: JSON.stringify({ v: 1, transport: 'sse' }) })).json()) as {
      cid: string;
      key: string;
    };
    const { port, pathname } = new URL(url);
    const socket = connectTcp(Number(port), '127.0.0.1');
    socket.pause();
    socket.write(`GET ${pathname}/sse?cid=${ticket.cid} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    await until(() => server.connections === 1, 5000, 'the stream to open');
    await fetch(`${url}/send?cid=${ticket.cid}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ticket.key}` },
      body: JSON.stringify([{ type: 'sub', channel: 'big', since: { epoch, seq: 0 } }]),
    });
    await sleep(300);
    const started = Date.now();
    await server.close();
    t = undefined;
    // The grace is 2 s; before it, close() waited for the client for good.
    expect(Date.now() - started).toBeLessThan(4000);
    socket.destroy();
  });
});
