// The real client against the real reference server in Node, once per transport:
// subscribe, receive, publish, and the token kept out of every URL.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { createClient, type Client, type ClientOptions, type MessageMeta } from '../../src/index.js';
import type { TransportName } from '../../src/transports/transport.js';
import { startDroppableServer, type DroppableServer } from '../helpers/droppable-server.js';
import { waitFor } from '../helpers/wait-for.js';

const transports: TransportName[] = ['websocket', 'sse', 'longpoll'];
const cleanup: (() => unknown)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function start(options?: Parameters<typeof startDroppableServer>[0]): Promise<DroppableServer> {
  const server = await startDroppableServer(options);
  cleanup.push(() => server.close());
  return server;
}

function connect(url: string, transport: TransportName, options: ClientOptions = {}): Client {
  const client = createClient(url, { transports: [transport], rememberTransport: false, ...options });
  cleanup.push(() => client.close());
  return client;
}

describe.each(transports)('client over %s against the reference server', (transport) => {
  it('subscribes, receives what the backend publishes, and publishes itself', async () => {
    const t = await start();
    const client = connect(t.url, transport);
    const received: [unknown, MessageMeta][] = [];
    const sub = client.subscribe('news');
    sub.on('message', (data, meta) => received.push([data, meta]));
    await waitFor(() => expect(sub.cursor).toBeDefined());
    expect(client.state).toBe('open');
    expect(client.transport).toBe(transport);

    const first = await t.server.publish('news', { headline: 'one' });
    const second = await client.publish('news', { headline: 'two' });
    expect(second).toEqual({ epoch: first.epoch, seq: first.seq + 1 });
    await waitFor(() => expect(received).toHaveLength(2));
    expect(received).toEqual([
      [{ headline: 'one' }, { channel: 'news', epoch: first.epoch, seq: 1 }],
      [{ headline: 'two' }, { channel: 'news', epoch: first.epoch, seq: 2 }],
    ]);
  });

  it('hands the token to authenticate and keeps it out of every URL', async () => {
    const tokens: (string | undefined)[] = [];
    const t = await start({
      authenticate: ({ token }) => {
        tokens.push(token);
        return token === 'secret-token' ? { user: 'ada' } : false;
      },
    });
    const client = connect(t.url, transport, { token: async () => 'secret-token' });
    const sub = client.subscribe('private');
    await waitFor(() => expect(sub.cursor).toBeDefined());
    expect(tokens).toEqual(['secret-token']);
    expect(t.requests.length).toBeGreaterThan(0);
    expect(t.requests.join(' ')).not.toContain('secret');
  });

  it('resumes a subscription from a saved cursor', async () => {
    const t = await start();
    const ack = await t.server.publish('log', 'a');
    await t.server.publish('log', 'b');
    await t.server.publish('log', 'c');
    const client = connect(t.url, transport);
    const received: unknown[] = [];
    client.subscribe('log', { since: { epoch: ack.epoch, seq: 1 } }).on('message', (data) => received.push(data));
    await waitFor(() => expect(received).toEqual(['b', 'c']));
  });
});

describe('all transports at once', () => {
  it('stay open through idle heartbeats: pings on WebSocket, [] answers on long polling, server pings on SSE', async () => {
    // 1 s heartbeats: the server drops a silent WebSocket after 2 s, and the client declares a
    // silent connection dead after 1 + 0.5 s. 3.5 s idle proves both sides over several pings.
    const t = await start({ heartbeat: 1000, longPollHold: 1000 });
    const clients = transports.map((transport) => connect(t.url, transport));
    const drops: string[] = [];
    for (const client of clients) {
      client.on('state', ({ to, reason }) => to !== 'open' && drops.push(`${client.transport}: ${reason}`));
    }
    await waitFor(() => expect(clients.map((client) => client.state)).toEqual(['open', 'open', 'open']));
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(drops).toEqual([]);
    expect(clients.map((client) => client.transport)).toEqual(transports);
    // Still carrying messages afterwards.
    const received: unknown[][] = clients.map(() => []);
    const subs = clients.map((client) => client.subscribe('after'));
    subs.forEach((sub, i) => sub.on('message', (data) => received[i]!.push(data)));
    await waitFor(() => expect(subs.every((sub) => sub.cursor)).toBe(true));
    await t.server.publish('after', 'still here');
    await waitFor(() => expect(received).toEqual([['still here'], ['still here'], ['still here']]));
  });
});

describe('Node without a global WebSocket', () => {
  it('runs on the ws package injected as WebSocket, across a drop', async () => {
    const t = await start();
    const client = connect(t.url, 'websocket', {
      WebSocket: NodeWebSocket as unknown as typeof globalThis.WebSocket,
      reconnect: { initialDelay: 20, maxDelay: 100 },
    });
    const received: unknown[] = [];
    const sub = client.subscribe('node');
    sub.on('message', (data) => received.push(data));
    await waitFor(() => expect(sub.cursor).toBeDefined());
    await t.server.publish('node', 1);
    await waitFor(() => expect(received).toEqual([1]));
    expect(t.drop()).toBeGreaterThan(0);
    await t.server.publish('node', 2);
    await expect(client.publish('node', 3)).resolves.toMatchObject({ seq: 3 });
    await waitFor(() => expect(received).toEqual([1, 2, 3]));
    expect(client.transport).toBe('websocket');
  });
});
