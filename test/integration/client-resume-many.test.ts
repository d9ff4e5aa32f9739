// A resume after a drop carries one `sub` per subscription and every unacknowledged publish.
// With the defaults (100 subscriptions, an outbox of 100) that is more frames than the server
// takes in one wire message, so the client must split it.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../src/index.js';
import type { TransportName } from '../../src/transports/transport.js';
import { startDroppableServer, type DroppableServer } from '../helpers/droppable-server.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe.each(['websocket', 'sse', 'longpoll'] as TransportName[])('client over %s', (transport) => {
  it('resumes 100 subscriptions and resends 20 publishes after a drop, nothing refused', async () => {
    const t: DroppableServer = await startDroppableServer();
    cleanup.push(() => t.close());
    const client: Client = createClient(t.url, {
      transports: [transport],
      rememberTransport: false,
      reconnect: { initialDelay: 20, maxDelay: 100 },
    });
    cleanup.push(() => client.close());
    const errors: string[] = [];
    client.on('error', (error) => errors.push(error.code));
    const received = new Map<string, number[]>();
    const subs = Array.from({ length: 100 }, (_, i) => {
      const sub = client.subscribe(`ch${i}`);
      sub.on('message', (_data, meta) => received.set(meta.channel, [...(received.get(meta.channel) ?? []), meta.seq]));
      return sub;
    });
    await waitFor(() => expect(subs.every((sub) => sub.cursor)).toBe(true));

    // Offline: the publishes wait in the outbox; meanwhile the server gets a message on every channel.
    t.offline(true);
    t.drop();
    await waitFor(() => expect(client.state).not.toBe('open'));
    const publishes = Array.from({ length: 20 }, (_, i) => client.publish('out', i));
    for (let i = 0; i < 100; i++) await t.server.publish(`ch${i}`, 'while away');
    t.offline(false);

    const acks = await Promise.all(publishes);
    expect(acks.map((ack) => ack.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await waitFor(() => expect([...received.values()].filter((seqs) => seqs.length === 1)).toHaveLength(100));
    for (const seqs of received.values()) expect(seqs).toEqual([1]);
    expect(errors.filter((code) => code === 'TOO_MANY_FRAMES')).toEqual([]);
  });
});
