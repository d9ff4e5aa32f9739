// Server-side connection drops under the real client, once per transport: nothing lost or
// repeated on the way down, and a publish whose ack was lost lands in the log exactly once.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient, type Client, type ClientState, type GapInfo } from '../../src/index.js';
import { memoryBroker, type Broker } from '../../src/server.js';
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

/** A client on one transport with quick retries, counting how often it (re)opened. */
function connect(url: string, transport: TransportName): { client: Client; opens: () => number } {
  const client = createClient(url, {
    transports: [transport],
    rememberTransport: false,
    reconnect: { initialDelay: 20, maxDelay: 100 },
  });
  cleanup.push(() => client.close());
  const states: ClientState[] = [];
  client.on('state', ({ to }) => states.push(to));
  return { client, opens: () => states.filter((state) => state === 'open').length };
}

describe.each(transports)('client over %s when the server side drops', (transport) => {
  it('delivers 300 messages in order, exactly once, across two drops mid-stream', async () => {
    const t = await start();
    const { client, opens } = connect(t.url, transport);
    const received: { data: unknown; seq: number }[] = [];
    const gaps: GapInfo[] = [];
    const sub = client.subscribe('feed');
    sub.on('message', (data, meta) => received.push({ data, seq: meta.seq }));
    sub.on('gap', (info) => gaps.push(info));
    await waitFor(() => expect(sub.cursor).toBeDefined());

    for (let i = 0; i < 300; i++) {
      await t.server.publish('feed', i);
      if (i === 99 || i === 199) {
        // Let part of the batch reach the client, so the drop cuts a live stream.
        await waitFor(() => expect(received.length).toBeGreaterThan(i - 50));
        const before = opens();
        expect(t.drop()).toBeGreaterThan(0);
        if (i === 99) {
          // Publishing goes on while the client reconnects; wait for it to be back before the next drop.
          for (i++; i < 150; i++) await t.server.publish('feed', i);
          i--;
          await waitFor(() => expect(opens()).toBeGreaterThan(before));
        }
      }
    }

    await waitFor(() => expect(received).toHaveLength(300));
    expect(received.map(({ data }) => data)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(received.map(({ seq }) => seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(gaps).toEqual([]);
    expect(opens()).toBeGreaterThanOrEqual(3);
    expect(client.transport).toBe(transport);
  });

  it('publishes exactly once when the connection drops between the server taking it and the ack', async () => {
    const inner = memoryBroker();
    cleanup.push(() => inner.close());
    let dropped = 0;
    // The drop happens after the message is in the log and before the server sends the ack.
    const broker: Broker = {
      ...inner,
      async publish(channel, data, id) {
        const result = await inner.publish(channel, data, id);
        if (channel === 'orders' && !dropped) dropped = t.drop();
        return result;
      },
    };
    const t = await start({ broker });
    const { client, opens } = connect(t.url, transport);
    const received: unknown[] = [];
    const sub = client.subscribe('orders');
    sub.on('message', (data) => received.push(data));
    await waitFor(() => expect(sub.cursor).toBeDefined());

    const ack = await client.publish('orders', { item: 'tea' });
    expect(dropped).toBeGreaterThan(0);
    expect(opens()).toBeGreaterThanOrEqual(2);
    const log = await inner.read('orders', 0);
    expect(log.messages.map((message) => message.data)).toEqual([{ item: 'tea' }]);
    expect(ack).toEqual({ epoch: log.epoch, seq: 1 });
    await waitFor(() => expect(received).toEqual([{ item: 'tea' }]));
  });

  it('sends publishes made while disconnected once it is back', async () => {
    const t = await start();
    const { client, opens } = connect(t.url, transport);
    const sub = client.subscribe('chat');
    await waitFor(() => expect(sub.cursor).toBeDefined());
    t.offline(true);
    expect(t.drop()).toBeGreaterThan(0);
    await waitFor(() => expect(client.state).toBe('reconnecting'));
    const failures: string[] = [];
    client.on('error', (error) => failures.push(error.code));
    const settled = vi.fn();
    const acks = Promise.all(['a', 'b', 'c'].map((text) => client.publish('chat', text))).finally(settled);
    // Reconnect attempts keep failing while offline; nothing is acknowledged.
    await waitFor(() => expect(failures.filter((code) => code === 'CONNECT_FAILED').length).toBeGreaterThanOrEqual(2));
    expect(settled).not.toHaveBeenCalled();
    expect(client.state).toBe('reconnecting');
    t.offline(false);
    expect((await acks).map(({ seq }) => seq)).toEqual([1, 2, 3]);
    expect(opens()).toBe(2);
    const next = await t.server.publish('chat', 'd');
    expect(next.seq).toBe(4);
  });
});

describe('a transport change under a live session', () => {
  it('moves from WebSocket to SSE when upgrades stop passing, with nothing lost, repeated or published twice', async () => {
    const t = await start();
    // A long stagger: a WebSocket slow to open on a loaded machine must not lose to SSE here.
    const client = createClient(t.url, { rememberTransport: false, stagger: 10_000, reconnect: { initialDelay: 20, maxDelay: 100 } });
    cleanup.push(() => client.close());
    const received: unknown[] = [];
    const sub = client.subscribe('ticker');
    sub.on('message', (data) => received.push(data));
    await waitFor(() => expect(sub.cursor).toBeDefined());
    expect(client.transport).toBe('websocket');

    for (let i = 0; i < 100; i++) await t.server.publish('ticker', i);
    t.refuseWebSockets(true);
    expect(t.drop()).toBeGreaterThan(0);
    // Sent while the session is between transports: it waits in the outbox and goes once.
    const ack = client.publish('ticker', 'from the client');
    for (let i = 100; i < 200; i++) await t.server.publish('ticker', i);
    await waitFor(() => expect(client.transport).toBe('sse'));
    const { seq } = await ack;

    await waitFor(() => expect(received).toHaveLength(201));
    const expected: unknown[] = Array.from({ length: 200 }, (_, i) => i);
    expected.splice(seq - 1, 0, 'from the client');
    expect(received).toEqual(expected);
  });
});
