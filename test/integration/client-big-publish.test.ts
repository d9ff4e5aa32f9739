// Publishes too big for the server, under the real client and server, once per transport: each
// one is refused by itself and the connection stays up. Queued while offline they used to be
// resent as one batch over the server's limit for a whole message, which closed the connection
// on every reconnect (1009 on WebSocket, 413 on /send) and so never ended.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type ClientState, type LifelineError } from '../../src/index.js';
import type { TransportName } from '../../src/transports/transport.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

const transports: TransportName[] = ['websocket', 'sse', 'longpoll'];
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function start(): Promise<TestServer> {
  // The defaults: frames up to 64 KiB, whole messages up to 100 of them (6.4 MB).
  const t = await startServer();
  cleanup.push(() => t.close());
  return t;
}

describe.each(transports)('big publishes over %s', (transport) => {
  it('twenty 500 KB publishes queued before the connection are each refused with FRAME_TOO_LARGE; the client stays connected', async () => {
    const { url, server } = await start();
    const client = createClient(url, { transports: [transport], rememberTransport: false, reconnect: { initialDelay: 20, maxDelay: 100 } });
    cleanup.push(() => client.close());
    const states: ClientState[] = [];
    client.on('state', ({ to }) => states.push(to));

    // 10 MB in all, over the server's 6.4 MB limit for one message; each alone is under it.
    const refused: (LifelineError | undefined)[] = [];
    const big = Array.from({ length: 20 }, (_, i) =>
      client.publish('room', `${i}:${'x'.repeat(500_000)}`).then(
        () => refused.push(undefined),
        (error: LifelineError) => refused.push(error),
      ),
    );
    await waitFor(() => expect(refused).toHaveLength(20));
    await Promise.all(big);
    expect(refused.map((error) => error?.code)).toEqual(Array(20).fill('FRAME_TOO_LARGE'));
    expect(states).toEqual(['open']);

    // Nothing of them landed, and the connection still carries publishes.
    await expect(client.publish('room', 'small')).resolves.toMatchObject({ seq: 1 });
    expect((await server.publish('room', 'next')).seq).toBe(2);
    expect(states).toEqual(['open']);
  });

  it('a publish over the whole-message limit is refused by the client unsent, with no reconnect', async () => {
    const { url } = await start();
    const client = createClient(url, { transports: [transport], rememberTransport: false, reconnect: { initialDelay: 20, maxDelay: 100 } });
    cleanup.push(() => client.close());
    const states: ClientState[] = [];
    client.on('state', ({ to }) => states.push(to));
    await waitFor(() => expect(client.state).toBe('open'));
    // 7 M characters: over the server's 6.4 MB for a whole message, and over the client's
    // default 1 MiB, so it is refused before it could close the connection.
    await expect(client.publish('room', 'x'.repeat(7_000_000))).rejects.toMatchObject({ code: 'FRAME_TOO_LARGE' });
    await expect(client.publish('room', 'small')).resolves.toMatchObject({ seq: 1 });
    expect(states).toEqual(['open']);
  });
});
