// The herd after a restart (issue 11): 500 clients of a node that restarts come back spread
// over the window the `bye` (1012) gives them, with nothing lost. Slow: about 15 s.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../src/index.js';
import { createServer, type LifelineServer, memoryBroker } from '../../src/server.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const CLIENTS = 500;
// 500 connections at 50 reconnects a second: a 10 s window, ten 1-s buckets of about 10 % each.
const RATE = 50;
const WINDOW = (1000 * CLIENTS) / RATE;

async function node(broker: ReturnType<typeof memoryBroker>, port = 0): Promise<{ server: LifelineServer; port: number }> {
  const server = createServer({ broker, restartReconnectRate: RATE, maxConnectionsPerIp: 2 * CLIENTS, maxSocketsPerIp: 4 * CLIENTS });
  const listening = await server.listen(port, '127.0.0.1');
  return { server, port: listening.port };
}

describe('the herd after a restart (slow)', () => {
  it(`${CLIENTS} clients come back spread over the bye's window: no 1-s bucket over 25 %, all within it, nothing lost`, {
    timeout: 90_000,
  }, async () => {
    const broker = memoryBroker();
    cleanup.push(() => broker.close());
    let current = await node(broker);
    cleanup.push(() => current.server.close());
    const url = `http://127.0.0.1:${current.port}/rt`;
    const clients: Client[] = [];
    const received: unknown[][] = [];
    const reopenedAt: (number | undefined)[] = [];
    /** When each client heard the bye (its state left `open`): its window starts there. */
    const leftAt: (number | undefined)[] = [];
    let closedAt = Number.POSITIVE_INFINITY;
    for (let i = 0; i < CLIENTS; i++) {
      const client = createClient(url, { transports: ['websocket'], rememberTransport: false });
      cleanup.push(() => client.close());
      clients.push(client);
      const mine: unknown[] = [];
      received.push(mine);
      client.subscribe('feed').on('message', (data) => mine.push(data));
      client.on('state', ({ to }) => {
        if (Date.now() < closedAt) return;
        if (to === 'reconnecting') leftAt[i] ??= Date.now();
        else if (to === 'open') reopenedAt[i] ??= Date.now();
      });
    }
    await waitFor(
      () => expect(current.server.describeConnections().filter((c) => c.channels.includes('feed'))).toHaveLength(CLIENTS),
      30_000,
    );
    for (let n = 0; n < 5; n++) await current.server.publish('feed', n);
    await waitFor(() => expect(received.every((r) => r.length === 5)).toBe(true));

    closedAt = Date.now();
    await current.server.close();
    current = await node(broker, current.port);
    // Published while the clients are away: each gets them when it resumes.
    for (let n = 5; n < 10; n++) await current.server.publish('feed', n);
    await waitFor(() => expect(reopenedAt.filter((t) => t !== undefined)).toHaveLength(CLIENTS), WINDOW + 15_000, 50);

    const delays = reopenedAt.map((t) => t! - closedAt);
    const buckets = new Map<number, number>();
    for (const delay of delays) buckets.set(Math.floor(delay / 1000), (buckets.get(Math.floor(delay / 1000)) ?? 0) + 1);
    const largest = Math.max(...buckets.values());
    expect(largest, `reconnects per second: ${JSON.stringify([...buckets].sort(([a], [b]) => a - b))}`).toBeLessThanOrEqual(CLIENTS / 4);
    // Within the window, with a second for the last ones' handshakes on a loaded machine.
    // Within each client's window, with a second for the handshake on a loaded machine.
    const late = reopenedAt.map((t, i) => t! - leftAt[i]!).filter((away) => away >= WINDOW + 1000);
    expect(late).toEqual([]);
    await waitFor(() => expect(received.every((r) => r.length === 10)).toBe(true));
    for (const r of received) expect(r).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
