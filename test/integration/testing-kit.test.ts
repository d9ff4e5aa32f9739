// The testing kit (`lifeline-rt/testing`) under the real Node client: every fault of its
// contract, on every transport where it applies, through the kit's and the client's public API.
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createClient, type Client, type ClientOptions, type GapInfo, type LifelineError } from '../../src/index.js';
import { createTestServer, TestServerError, type TestServer, type TestServerOptions, type TestTransport } from '../../src/testing.js';
import { waitFor } from '../helpers/wait-for.js';

const transports: TestTransport[] = ['websocket', 'sse', 'longpoll'];
const cleanup: (() => unknown)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function kit(options?: TestServerOptions): Promise<TestServer> {
  const server = await createTestServer(options);
  cleanup.push(() => server.close());
  return server;
}

/** A Node client with quick retries that records what it delivers. */
function connect(server: TestServer, options: ClientOptions = {}) {
  const client: Client = createClient(server.url, {
    WebSocket: WebSocket as unknown as ClientOptions['WebSocket'],
    rememberTransport: false,
    reconnect: { initialDelay: 20, maxDelay: 100 },
    ...options,
  });
  cleanup.push(() => client.close());
  const errors: LifelineError[] = [];
  client.on('error', (error) => errors.push(error));
  return { client, errors };
}

function subscribe(client: Client, channel: string) {
  const received: { data: unknown; seq: number; epoch: string }[] = [];
  const gaps: GapInfo[] = [];
  const sub = client.subscribe(channel);
  sub.on('message', (data, { seq, epoch }) => received.push({ data, seq, epoch }));
  sub.on('gap', (info) => gaps.push(info));
  return { sub, received, gaps };
}

describe('createTestServer', () => {
  it('serves a real server on 127.0.0.1 with a free port and reports connections with transport and channels', async () => {
    const server = await kit();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/rt$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/rt`);
    expect(server.connections).toEqual([]);
    const { client } = connect(server, { transports: ['websocket'] });
    const { received } = subscribe(client, 'news');
    const connection = await server.waitForConnection({ channel: 'news' });
    expect(connection).toMatchObject({ transport: 'websocket', channels: ['news'], stalled: false });
    expect(server.connections).toEqual([connection]);
    const ack = await server.publish('news', { title: 'hello' });
    expect(ack).toMatchObject({ seq: 1, epoch: expect.any(String) });
    await waitFor(() => expect(received).toEqual([{ data: { title: 'hello' }, seq: 1, epoch: ack.epoch }]));
    // The kit's own publishes are not clients'.
    expect(server.published('news')).toEqual([]);
  });

  it('refuses to listen on anything but loopback', async () => {
    // Every address, both wildcards, a LAN address and a LAN name: each refused before it binds.
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'dev-box.local']) {
      const error = await createTestServer({ host: host as '127.0.0.1' }).catch((e: unknown) => e);
      expect(error, host).toBeInstanceOf(TestServerError);
      expect(error, host).toMatchObject({ code: 'NOT_LOOPBACK' });
      expect((error as Error).message, host).toBe(`createTestServer: host must be '127.0.0.1' or '::1', got "${host}"`);
    }
    await expect(createTestServer({ port: -1 })).rejects.toBeInstanceOf(TestServerError);
  });

  it('waits time out with a message naming what was awaited and what was seen', async () => {
    const server = await kit({ timeout: 100 });
    const { client } = connect(server, { transports: ['sse'] });
    subscribe(client, 'a');
    // The server's short default is for the waits below; setting up may take longer on a busy machine.
    await server.waitForConnection({ channel: 'a', timeout: 10_000 });
    const started = Date.now();
    const error = await server.waitForConnection({ transport: 'websocket' }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(TestServerError);
    expect(error).toMatchObject({ code: 'WAIT_TIMEOUT' });
    expect((error as Error).message).toMatch(/open connection \(websocket\) within 100 ms; seen: 1 open: sse \[a\]/);
    const publishWait = await server.waitForPublish('chat', undefined, { timeout: 50 }).catch((e: unknown) => e);
    expect((publishWait as Error).message).toMatch(/client publish on "chat" within 50 ms; seen: nothing published on "chat"/);
  });

  it('every wait names what it awaited and what it saw: a channel, a predicate, a stalled connection', async () => {
    const server = await kit({ timeout: 100 });
    const { client } = connect(server, { transports: ['websocket'] });
    subscribe(client, 'a');
    await server.waitForConnection({ channel: 'a', timeout: 10_000 });
    const channelWait = await server.waitForConnection({ channel: 'b' }).catch((e: unknown) => e);
    expect(channelWait).toMatchObject({ code: 'WAIT_TIMEOUT' });
    expect((channelWait as Error).message).toBe(
      'Timed out waiting for an open connection (any transport, subscribed to "b") within 100 ms; seen: 1 open: websocket [a]',
    );

    await client.publish('chat', { text: 'one' });
    const predicateWait = await server
      .waitForPublish('chat', (data) => (data as { text: string }).text === 'two', { timeout: 50 })
      .catch((e: unknown) => e);
    expect(predicateWait).toMatchObject({ code: 'WAIT_TIMEOUT' });
    expect((predicateWait as Error).message).toBe(
      'Timed out waiting for a client publish on "chat" matching the predicate within 50 ms; seen: 1 published on "chat": {"text":"one"}',
    );

    // A stalled connection is seen, marked, and not counted as open (the default 25 s heartbeat
    // keeps the client on it for this test).
    expect(server.stall()).toBe(1);
    const stalledWait = await server.waitForConnection().catch((e: unknown) => e);
    expect((stalledWait as Error).message).toBe(
      'Timed out waiting for an open connection (any transport) within 100 ms; seen: 1 open: websocket [a] (stalled)',
    );
  });

  it('records what clients publish, once each, and waitForPublish finds it, earlier ones included', async () => {
    const server = await kit();
    const { client } = connect(server, { transports: ['longpoll'] });
    await client.publish('chat', { text: 'one' });
    const second = server.waitForPublish('chat', (data) => (data as { text: string }).text === 'two');
    await client.publish('chat', { text: 'two' });
    await expect(second).resolves.toEqual({ text: 'two' });
    await expect(server.waitForPublish('chat')).resolves.toEqual({ text: 'one' });
    expect(server.published('chat')).toEqual([{ text: 'one' }, { text: 'two' }]);
  });

  it('closes without leaving a handle: a process using the kit exits by itself', async () => {
    // A stalled connection, a blackholed attempt and a pending wait are all open when it closes.
    const script = `
      import { createTestServer } from './src/testing.ts';
      import { createClient } from './src/index.ts';
      import { WebSocket } from 'ws';
      const server = await createTestServer({ heartbeat: 500 });
      const stalled = createClient(server.url, { WebSocket, transports: ['websocket'] });
      await server.waitForConnection();
      server.stall();
      server.blackhole('longpoll');
      const hanging = createClient(server.url, { transports: ['longpoll'] });
      const waiting = server.waitForConnection({ transport: 'longpoll', timeout: 60000 }).catch((e) => e.code);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await server.close();
      stalled.close();
      hanging.close();
      console.log(await waiting);
    `;
    // Bundled from the sources (packages stay imports, resolved from the repository as cwd).
    const bundled = await build({
      stdin: { contents: script, resolveDir: process.cwd(), loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      // The sources are the development build, as in vitest.
      define: { __DEV__: 'true' },
      write: false,
      logLevel: 'silent',
    });
    const started = Date.now();
    const result = spawnSync(process.execPath, ['--input-type=module'], {
      cwd: process.cwd(),
      input: bundled.outputFiles[0]!.text,
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('CLOSED');
    expect(result.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('fault controls', () => {
  it('drop cuts only the transport named and counts what it cut', async () => {
    const server = await kit();
    connect(server, { transports: ['websocket'] });
    connect(server, { transports: ['sse'] });
    await server.waitForConnection({ transport: 'websocket' });
    const sse = await server.waitForConnection({ transport: 'sse' });
    const ws = server.connections.find((c) => c.transport === 'websocket')!;
    expect(server.drop({ transport: 'sse' })).toBe(1);
    // Left out at once, before the server notices.
    expect(server.connections.map((c) => c.cid)).toEqual([ws.cid]);
    const back = await server.waitForConnection({ transport: 'sse' });
    expect(back.cid).not.toBe(sse.cid);
    expect(server.connections.map((c) => c.cid)).toContain(ws.cid);
    expect(() => server.drop({ transport: 'carrier-pigeon' as TestTransport })).toThrow(/transport must be/);
  });

  it('allow() without a transport lifts every refusal', async () => {
    const server = await kit();
    server.refuse('websocket');
    server.refuse('sse');
    server.allow();
    const { client } = connect(server, { transports: ['websocket'] });
    await server.waitForConnection({ transport: 'websocket' });
    await waitFor(() => expect(client.state).toBe('open'));
  });

  it('forgetHistory() without a channel gives every channel a new epoch', async () => {
    const server = await kit();
    const a = await server.publish('a', 1);
    const b = await server.publish('b', 1);
    server.forgetHistory();
    const a2 = await server.publish('a', 2);
    const b2 = await server.publish('b', 2);
    expect([a2.seq, b2.seq]).toEqual([1, 1]);
    expect(a2.epoch).not.toBe(a.epoch);
    expect(b2.epoch).not.toBe(b.epoch);
  });

  it('a wait pending when the server closes rejects with CLOSED, and calls after close reject too', async () => {
    const server = await kit();
    const waiting = server.waitForConnection({ timeout: 10_000 });
    await server.close();
    await expect(waiting).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(server.publish('a', 1)).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(server.restart()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('keeps refusals across a restart', async () => {
    const server = await kit();
    server.refuse('websocket');
    await server.restart();
    connect(server, { transports: ['websocket', 'sse'], stagger: 10_000 });
    await expect(server.waitForConnection()).resolves.toMatchObject({ transport: 'sse' });
  });
});

describe('refuse', () => {
  it.each([
    ['websocket', ['websocket', 'sse'], 'sse'],
    ['sse', ['sse', 'longpoll'], 'longpoll'],
    ['longpoll', ['longpoll', 'websocket'], 'websocket'],
  ] as const)('a refused %s fails over at once, well before the stagger', async (refused, order, next) => {
    const server = await kit({ timeout: 3000 });
    server.refuse(refused);
    // A stagger far above the wait's timeout: only an attempt that fails at once moves on in time.
    const { client } = connect(server, { transports: [...order], stagger: 10_000 });
    await expect(server.waitForConnection()).resolves.toMatchObject({ transport: next });
    await waitFor(() => expect(client.transport).toBe(next));
    server.allow(refused);
    server.drop();
    await expect(server.waitForConnection({ transport: refused })).resolves.toMatchObject({ transport: refused });
  });
});

describe('blackhole', () => {
  it.each([
    ['websocket', ['websocket', 'sse'], 'sse'],
    ['sse', ['sse', 'longpoll'], 'longpoll'],
    ['longpoll', ['longpoll', 'websocket'], 'websocket'],
  ] as const)('a blackholed %s hangs until the stagger starts the next transport', async (held, order, next) => {
    const server = await kit();
    server.blackhole(held);
    const started = Date.now();
    const { client, errors } = connect(server, { transports: [...order], stagger: 300 });
    await expect(server.waitForConnection()).resolves.toMatchObject({ transport: next });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await waitFor(() => expect(client.transport).toBe(next));
    expect(errors).toEqual([]);
  });
});

describe.each(transports)('over %s', (transport) => {
  it('drop cuts the connection; the client resumes and delivers every message exactly once', async () => {
    const server = await kit();
    const { client } = connect(server, { transports: [transport] });
    const { received, gaps } = subscribe(client, 'feed');
    const first = await server.waitForConnection({ channel: 'feed' });
    for (let i = 1; i <= 3; i++) await server.publish('feed', i);
    await waitFor(() => expect(received).toHaveLength(3));
    expect(server.drop({ transport })).toBe(1);
    // Published while the client is away: it gets them by resuming.
    for (let i = 4; i <= 6; i++) await server.publish('feed', i);
    const second = await server.waitForConnection({ channel: 'feed' });
    expect(second.cid).not.toBe(first.cid);
    for (let i = 7; i <= 8; i++) await server.publish('feed', i);
    await waitFor(() => expect(received.map((m) => m.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(received.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(gaps).toEqual([]);
  });

  it('stall makes a zombie: the client times out on its heartbeat and recovers on a new connection', async () => {
    const server = await kit({ heartbeat: 500 });
    const { client, errors } = connect(server, { transports: [transport] });
    const { received } = subscribe(client, 'feed');
    const zombie = await server.waitForConnection({ channel: 'feed' });
    await server.publish('feed', 'before');
    await waitFor(() => expect(received).toHaveLength(1));
    expect(server.stall()).toBe(1);
    expect(server.connections.find((c) => c.cid === zombie.cid)?.stalled ?? true).toBe(true);
    await server.publish('feed', 'during');
    const stalledAt = Date.now();
    const fresh = await server.waitForConnection({ channel: 'feed', timeout: 8000 });
    expect(fresh.cid).not.toBe(zombie.cid);
    // Found by the heartbeat (500 ms + the client's 500 ms grace after the last frame, which
    // came just before the stall), not by a close.
    expect(Date.now() - stalledAt).toBeGreaterThanOrEqual(500);
    expect(errors.map((e) => e.code)).toContain('HEARTBEAT_TIMEOUT');
    await waitFor(() => expect(received.map((m) => m.data)).toEqual(['before', 'during']));
    server.unstall();
  });

  it('unstall lets what was held through: the same connection delivers it, nothing reconnects', async () => {
    // The default heartbeat (25 s): the client has no reason to give up during this test.
    const server = await kit();
    const { client } = connect(server, { transports: [transport] });
    const { received } = subscribe(client, 'feed');
    const states: string[] = [];
    client.on('state', ({ to }) => states.push(to));
    const before = await server.waitForConnection({ channel: 'feed' });
    expect(server.stall()).toBe(1);
    await server.publish('feed', 'held');
    await expect(server.waitForConnection({ timeout: 300 })).rejects.toMatchObject({ code: 'WAIT_TIMEOUT' });
    // Nothing got through the stall.
    expect(received).toEqual([]);
    server.unstall();
    await waitFor(() => expect(received.map((m) => m.data)).toEqual(['held']));
    expect(await server.waitForConnection({ channel: 'feed' })).toMatchObject({ cid: before.cid, stalled: false });
    expect(states).not.toContain('reconnecting');
  });

  it('forgetHistory starts a new epoch: the subscriber gets a gap, then the new log from seq 1', async () => {
    const server = await kit();
    const { client } = connect(server, { transports: [transport] });
    const { received, gaps } = subscribe(client, 'feed');
    await server.waitForConnection({ channel: 'feed' });
    const before = await server.publish('feed', 'old');
    await server.publish('other', 'kept');
    server.forgetHistory('feed');
    const after = await server.publish('feed', 'new');
    expect(after.seq).toBe(1);
    expect(after.epoch).not.toBe(before.epoch);
    // Only the channel named forgets.
    expect((await server.publish('other', 'next')).seq).toBe(2);
    await waitFor(() => expect(received.map((m) => m.data)).toEqual(['old', 'new']));
    expect(gaps).toMatchObject([{ channel: 'feed', reason: 'epoch' }]);
  });

  it('restart comes back on the same URL: resuming gets a gap, an unacknowledged publish is resent once', async () => {
    const server = await kit({ heartbeat: 500 });
    const { client } = connect(server, { transports: [transport] });
    const { received, gaps } = subscribe(client, 'feed');
    await server.waitForConnection({ channel: 'feed' });
    const before = await server.publish('feed', 'before');
    await waitFor(() => expect(received).toHaveLength(1));
    // Stalled, the publish never reaches this life of the server; restart cuts the zombie.
    server.stall();
    const published = client.publish('orders', { id: 7 });
    const url = server.url;
    await server.restart();
    expect(server.url).toBe(url);
    const ack = await published;
    expect(ack.epoch).not.toBe(before.epoch);
    expect(server.published('orders')).toEqual([{ id: 7 }]);
    await server.waitForConnection({ channel: 'feed' });
    await server.publish('feed', 'after');
    await waitFor(() => expect(received.map((m) => m.data)).toEqual(['before', 'after']));
    expect(gaps).toMatchObject([{ channel: 'feed', reason: 'epoch' }]);
  });
});
