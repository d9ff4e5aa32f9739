// The hub owns each connection's subscriptions: it counts them, replaces one per channel,
// forgets a connection entirely when it is dropped, and retries a failed subscribe with the
// one broker-retry backoff the server uses everywhere.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ServerFrame } from '../../src/protocol/index.js';
import { brokerRetryDelay } from '../../src/server/broker-failure.js';
import type { Broker } from '../../src/server/brokers/broker.js';
import { memoryBroker } from '../../src/server/brokers/memory.js';
import { Connection, type ConnectionSink } from '../../src/server/connection.js';
import { Hub } from '../../src/server/hub.js';

function connection(cid: string): { connection: Connection; frames: ServerFrame[] } {
  const frames: ServerFrame[] = [];
  const sink: ConnectionSink = {
    transport: 'sse',
    pingsWhenIdle: false,
    write: (_text, written) => frames.push(...written),
    pendingBytes: () => 0,
    end: () => undefined,
  };
  const settings = { heartbeat: 25_000, maxSendBuffer: 1_000_000, maxBatchSize: 100_000 };
  return { connection: new Connection(cid, '127.0.0.1', undefined, sink, settings, () => undefined), frames };
}

describe('Hub subscription state', () => {
  afterEach(() => vi.useRealTimers());

  it('counts per connection, replaces a channel subscribed twice, and forgets a dropped connection', async () => {
    const broker = memoryBroker();
    const hub = new Hub(broker);
    const a = connection('a');
    const b = connection('b');
    await hub.subscribe(a.connection, 'x', undefined);
    await hub.subscribe(a.connection, 'x', undefined);
    await hub.subscribe(a.connection, 'y', undefined);
    await hub.subscribe(b.connection, 'x', undefined);
    expect(hub.subscriptionCount(a.connection)).toBe(2);
    expect(hub.isSubscribed(a.connection, 'y')).toBe(true);
    expect(hub.isSubscribed(b.connection, 'y')).toBe(false);
    hub.dropConnection(a.connection);
    expect(hub.subscriptionCount(a.connection)).toBe(0);
    expect(hub.channelCount).toBe(1);
    hub.unsubscribe(b.connection, 'x');
    expect(hub.subscriptionCount(b.connection)).toBe(0);
    expect(hub.channelCount).toBe(0);
    hub.close();
    await broker.close();
  });

  it('keeps a failed subscribe counted while it waits, and retries it after brokerRetryDelay', async () => {
    vi.useFakeTimers();
    const inner = memoryBroker();
    let failing = true;
    const broker: Broker = {
      ...inner,
      read: (channel, after) => (failing ? Promise.reject(new Error('down')) : inner.read(channel, after)),
    };
    const hub = new Hub(broker);
    const a = connection('a');
    await hub.subscribe(a.connection, 'x', undefined);
    expect(hub.isSubscribed(a.connection, 'x')).toBe(true);
    failing = false;
    await vi.advanceTimersByTimeAsync(brokerRetryDelay(0, () => 1));
    await vi.advanceTimersByTimeAsync(1);
    expect(a.frames.map((f) => f.type)).toEqual(['error', 'subscribed']);
    hub.dropConnection(a.connection);
    expect(hub.subscriptionCount(a.connection)).toBe(0);
    hub.close();
    await inner.close();
  });
});

describe('brokerRetryDelay', () => {
  it('doubles from 250 ms up to 5 s, jittered between half and all of it', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((attempt) => brokerRetryDelay(attempt, () => 1))).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect(brokerRetryDelay(0, () => 0)).toBe(125);
    expect(brokerRetryDelay(10, () => 0)).toBe(2500);
  });
});
