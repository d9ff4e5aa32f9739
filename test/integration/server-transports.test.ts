// The reference server's core promises, once per transport, over real sockets.
import { afterEach, describe, expect, it } from 'vitest';
import type { MsgFrame } from '../../src/protocol/index.js';
import type { ServerOptions } from '../../src/server.js';
import { connectRaw, startServer, transports, type TestServer } from '../helpers/server.js';

let t: TestServer | undefined;
const start = async (options: ServerOptions = {}) => (t = await startServer(options));
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const seqs = (frames: { type: string }[]) => frames.filter((f): f is MsgFrame => f.type === 'msg').map((f) => f.seq);

describe.each(transports)('%s', (transport) => {
  it('welcomes with version, cid, heartbeat and server time', async () => {
    const { url } = await start({ heartbeat: 7000 });
    const before = Date.now();
    const c = await connectRaw(transport, url);
    const [welcome] = c.messages[0]!;
    expect(welcome).toMatchObject({ type: 'welcome', v: 1, heartbeat: 7000 });
    expect(c.cid).toMatch(/^[\w-]{16,}$/);
    expect((welcome as { time: number }).time).toBeGreaterThanOrEqual(before - 1000);
  });

  it('delivers published messages to a subscriber, in order', async () => {
    const { url, server } = await start();
    const c = await connectRaw(transport, url);
    await c.send([{ type: 'sub', channel: 'news' }]);
    const subscribed = await c.frame('subscribed');
    expect(subscribed).toMatchObject({ channel: 'news', seq: 0 });
    const result = await server.publish('news', { hello: 'world' });
    expect(result).toEqual({ channel: 'news', seq: 1, epoch: subscribed.epoch });
    expect(await c.frame('msg')).toEqual({ type: 'msg', channel: 'news', epoch: subscribed.epoch, seq: 1, data: { hello: 'world' } });
    await server.publish('news', 2);
    expect(await c.frame('msg')).toMatchObject({ seq: 2, data: 2 });
  });

  it('coalesces what is ready in one tick into one wire message', async () => {
    const { url, server } = await start();
    const c = await connectRaw(transport, url);
    await c.send([{ type: 'sub', channel: 'burst' }]);
    await c.frame('subscribed');
    // Let the next long poll reach the server and be held, so a per-frame flush would answer it early.
    if (transport === 'longpoll') await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all(Array.from({ length: 50 }, (_, i) => server.publish('burst', i)));
    const message = await c.next();
    expect(seqs(message)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('replays after a cursor, then goes on live without holes or repeats', async () => {
    const { url, server } = await start();
    for (let i = 1; i <= 5; i++) await server.publish('log', i);
    const { epoch } = await server.publish('log', 6);
    const c = await connectRaw(transport, url);
    await c.send([{ type: 'sub', channel: 'log', since: { epoch, seq: 3 } }]);
    expect(await c.frame('subscribed')).toEqual({ type: 'subscribed', channel: 'log', epoch, seq: 3 });
    await server.publish('log', 7);
    const got: number[] = [];
    while (got.length < 4) got.push((await c.frame('msg')).seq);
    expect(got).toEqual([4, 5, 6, 7]);
  });

  it('answers gap "window" for a cursor older than the history, replaying what is retained', async () => {
    const { url, server } = await start({ historySize: 3 });
    let epoch = '';
    for (let i = 1; i <= 10; i++) ({ epoch } = await server.publish('w', i));
    const c = await connectRaw(transport, url);
    await c.send([{ type: 'sub', channel: 'w', since: { epoch, seq: 2 } }]);
    expect(await c.frame('gap')).toEqual({ type: 'gap', channel: 'w', epoch, seq: 7, reason: 'window', from: { epoch, seq: 2 } });
    expect([(await c.frame('msg')).seq, (await c.frame('msg')).seq, (await c.frame('msg')).seq]).toEqual([8, 9, 10]);
  });

  it('answers gap "window" for a cursor ahead of the head', async () => {
    const { url, server } = await start();
    const { epoch } = await server.publish('ahead', 1);
    const c = await connectRaw(transport, url);
    await c.send([{ type: 'sub', channel: 'ahead', since: { epoch, seq: 99 } }]);
    expect(await c.frame('gap')).toMatchObject({ epoch, seq: 0, reason: 'window', from: { epoch, seq: 99 } });
    expect(await c.frame('msg')).toMatchObject({ seq: 1, data: 1 });
  });

  it('answers gap "epoch" for a cursor from another history', async () => {
    const { url, server } = await start();
    await server.publish('e', 'a');
    const { epoch } = await server.publish('e', 'b');
    const c = await connectRaw(transport, url);
    await c.send([{ type: 'sub', channel: 'e', since: { epoch: 'gone-epoch', seq: 1 } }]);
    expect(await c.frame('gap')).toEqual({
      type: 'gap',
      channel: 'e',
      epoch,
      seq: 0,
      reason: 'epoch',
      from: { epoch: 'gone-epoch', seq: 1 },
    });
    expect([(await c.frame('msg')).data, (await c.frame('msg')).data]).toEqual(['a', 'b']);
  });

  it('publishes from the client with an ack, and a repeated id publishes nothing', async () => {
    const { url } = await start();
    const reader = await connectRaw(transport, url);
    await reader.send([{ type: 'sub', channel: 'p' }]);
    await reader.frame('subscribed');
    const c = await connectRaw(transport, url);
    await c.send([{ type: 'pub', id: 'm-1', channel: 'p', data: { n: 1 } }]);
    const ack = await c.frame('ack');
    expect(ack).toMatchObject({ type: 'ack', id: 'm-1', channel: 'p', seq: 1 });
    await c.send([
      { type: 'pub', id: 'm-1', channel: 'p', data: { n: 1 } },
      { type: 'pub', id: 'm-2', channel: 'p', data: { n: 2 } },
    ]);
    expect(await c.frame('ack')).toEqual(ack);
    expect(await c.frame('ack')).toMatchObject({ id: 'm-2', seq: 2 });
    expect([(await reader.frame('msg')).seq, (await reader.frame('msg')).seq]).toEqual([1, 2]);
  });

  it('re-subscribing restarts from the new cursor; unsub stops delivery', async () => {
    const { url, server } = await start();
    const c = await connectRaw(transport, url);
    await c.send([{ type: 'sub', channel: 'r' }]);
    const { epoch } = await c.frame('subscribed');
    await server.publish('r', 1);
    await server.publish('r', 2);
    expect((await c.frame('msg', (m) => m.seq === 2)).seq).toBe(2);
    await c.send([{ type: 'sub', channel: 'r', since: { epoch, seq: 0 } }]);
    expect(await c.frame('subscribed')).toMatchObject({ seq: 0 });
    expect([(await c.frame('msg')).seq, (await c.frame('msg')).seq]).toEqual([1, 2]);
    await c.send([{ type: 'unsub', channel: 'r' }, { type: 'ping' }]);
    await c.frame('pong');
    await server.publish('r', 3);
    await c.send([{ type: 'ping' }]);
    await c.frame('pong');
    expect(c.messages.flat().filter((f) => f.type === 'msg' && f.seq === 3)).toEqual([]);
  });

  it("echoes a sub's rid on its subscribed, gap and error, and answers a sub without one as before", async () => {
    const { url, server } = await start({ maxSubscriptions: 2, authorize: (_, channel) => channel !== 'secret' });
    const { epoch } = await server.publish('e', 'a');
    const c = await connectRaw(transport, url);
    await c.send([
      { type: 'sub', channel: 'a', rid: 'r1' },
      { type: 'sub', channel: 'secret', rid: 'r2' },
      { type: 'sub', channel: 'e', since: { epoch: 'gone', seq: 5 }, rid: 'r3' },
      { type: 'sub', channel: 'a' },
      { type: 'sub', channel: 'x', rid: 'r4' },
    ]);
    expect(await c.frame('subscribed')).toEqual({ type: 'subscribed', channel: 'a', epoch: expect.any(String), seq: 0, rid: 'r1' });
    expect(await c.frame('error')).toMatchObject({ code: 'FORBIDDEN', channel: 'secret', rid: 'r2' });
    expect(await c.frame('gap')).toMatchObject({ channel: 'e', epoch, reason: 'epoch', rid: 'r3' });
    const plain = await c.frame('subscribed');
    expect(plain).toMatchObject({ channel: 'a' });
    expect(plain).not.toHaveProperty('rid');
    expect(await c.frame('error')).toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS', channel: 'x', rid: 'r4' });
  });

  it('passes the token to authenticate and the principal to authorize', async () => {
    const seen: unknown[] = [];
    const { url, server } = await start({
      authenticate: ({ token, transport: via }) => {
        seen.push([token, via]);
        return token === 'good' ? { user: 'ann' } : false;
      },
      authorize: (principal, channel, action) => {
        seen.push([principal, channel, action]);
        return channel !== 'secret';
      },
    });
    await expect(connectRaw(transport, url, { token: 'bad' })).rejects.toThrow(transport === 'websocket' ? /ended|401/ : /401/);
    const c = await connectRaw(transport, url, { token: 'good' });
    await c.send([
      { type: 'sub', channel: 'secret' },
      { type: 'sub', channel: 'open' },
      { type: 'pub', id: 'x', channel: 'secret', data: 1 },
    ]);
    expect(await c.frame('error')).toMatchObject({ code: 'FORBIDDEN', channel: 'secret' });
    await c.frame('subscribed');
    expect(await c.frame('error')).toMatchObject({ code: 'FORBIDDEN', id: 'x' });
    expect(seen).toContainEqual(['good', transport]);
    expect(seen).toContainEqual([{ user: 'ann' }, 'open', 'subscribe']);
    expect(seen).toContainEqual([{ user: 'ann' }, 'secret', 'publish']);
    expect((await server.publish('secret', 1)).seq).toBe(1);
  });

  it('sends ping on an idle connection at the heartbeat interval (long polls answer [] instead)', async () => {
    const { url } = await start({ heartbeat: 150, longPollHold: 5000 });
    // Taken before connecting: the server's idle timer starts when it sends the welcome.
    const started = Date.now();
    const c = await connectRaw(transport, url);
    if (transport === 'longpoll') {
      const quiet = await connectRaw(transport, url, { autoPoll: false });
      await quiet.poll(0);
      const polled = Date.now();
      expect(await quiet.poll(1)).toEqual({ status: 200, body: [] });
      expect(Date.now() - polled).toBeGreaterThanOrEqual(100);
      expect(Date.now() - polled).toBeLessThan(1000);
    } else {
      await c.frame('ping', undefined, 2000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    }
  });
});

describe('websocket heartbeat', () => {
  it('answers ping with pong and closes a silent client with 4004', async () => {
    const { url } = await start({ heartbeat: 100 });
    const c = await connectRaw('websocket', url);
    // Taken before the ping, so before the server's silence timer restarts on receiving it.
    const started = Date.now();
    await c.send([{ type: 'ping' }]);
    await c.frame('pong');
    expect((await c.ended).code).toBe(4004);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('pings a client that has been silent for an interval even while it streams messages, and keeps it when it answers', async () => {
    // 500 ms: each pong must beat the server's 1 s silence limit even on a loaded machine.
    const { url, server } = await start({ heartbeat: 500 });
    const c = await connectRaw('websocket', url);
    await c.send([{ type: 'sub', channel: 'busy' }]);
    await c.frame('subscribed');
    // The server is never idle here, so only a probe of the silent client can produce these pings.
    const publisher = setInterval(() => void server.publish('busy', 'x'), 20);
    try {
      for (let i = 0; i < 4; i++) {
        await c.frame('ping', undefined, 3000);
        await c.send([{ type: 'pong' }]);
      }
      expect(server.connections).toBe(1);
    } finally {
      clearInterval(publisher);
    }
  });

  it('keeps a client that keeps talking', async () => {
    // Talking every 100 ms against a 600 ms silence limit, for longer than that limit.
    const { url } = await start({ heartbeat: 300 });
    const c = await connectRaw('websocket', url);
    for (let i = 0; i < 8; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await c.send([{ type: 'ping' }]);
    }
    await c.frame('pong');
    expect(t!.server.connections).toBe(1);
  });
});

describe('sse stream', () => {
  it('is text/event-stream, uncached, unbuffered, never compressed, and starts with welcome', async () => {
    const { url } = await start();
    const { cid } = (await (await fetch(`${url}/connect`, { method: 'POST', body: '{"v":1,"transport":"sse"}' })).json()) as {
      cid: string;
    };
    const stop = new AbortController();
    const res = await fetch(`${url}/sse?cid=${cid}`, { headers: { 'Accept-Encoding': 'gzip, br' }, signal: stop.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toMatch(/no-cache/);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('content-encoding')).toBeNull();
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^data: \[\{"type":"welcome".*\]\n\n$/);
    stop.abort();
  });
});
