// close() on the HTTP transports tells the server, which frees the connection at once rather
// than after heartbeat + longPollHold (long polling) or whenever the socket's end is noticed.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/index.js';
import type { TransportName } from '../../src/transports/transport.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe.each(['sse', 'longpoll'] as TransportName[])('%s: close()', (transport) => {
  it('frees the connection on the server at once', async () => {
    // Long enough that only the bye can explain a prompt release.
    const t: TestServer = await startServer({ heartbeat: 60_000, longPollHold: 60_000 });
    cleanup.push(() => t.close());
    const client = createClient(t.url, { transports: [transport], rememberTransport: false });
    cleanup.push(() => client.close());
    client.subscribe('news');
    await waitFor(() => expect(t.server.describeConnections().map((c) => c.channels)).toEqual([['news']]));
    expect(client.state).toBe('open');
    client.close();
    await waitFor(() => expect(t.server.connections).toBe(0));
    expect(t.server.describeConnections()).toEqual([]);
  });
});
