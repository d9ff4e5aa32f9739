// A connection the server breaks after its welcome reaches the application as an `error`
// event, on every transport alike, and the client reconnects.
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createClient, type LifelineError } from '../../src/index.js';
import type { TransportName } from '../../src/transports/transport.js';
import { startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function client(url: string, transport: TransportName) {
  const c = createClient(url, { transports: [transport], rememberTransport: false, reconnect: { initialDelay: 20, maxDelay: 100 } });
  cleanup.push(() => c.close());
  const errors: LifelineError[] = [];
  c.on('error', (error) => errors.push(error));
  return { client: c, errors };
}

describe.each(['websocket', 'sse', 'longpoll'] as const)('a connection broken by the server after welcome, over %s', (transport) => {
  it('a wire message over the server limit (close 1009 / HTTP 413) is an error event naming it', async () => {
    // 64-byte frames, 100 a message: 6,400 bytes, which one 7,000-character publish passes.
    const t = await startServer({ maxMessageSize: 64 });
    cleanup.push(() => t.close());
    const { client: c, errors } = client(t.url, transport);
    await waitFor(() => expect(c.state).toBe('open'));
    void c.publish('c', 'x'.repeat(7000)).catch(() => undefined);
    await waitFor(() => expect(errors.length).toBeGreaterThan(0));
    if (transport === 'websocket') expect(errors[0]).toMatchObject({ code: 'SERVER_CLOSED', message: expect.stringMatching(/^1009 /) });
    else expect(errors[0]).toMatchObject({ code: 'FRAME_TOO_LARGE' });
  });
});

describe('a WebSocket closed by the server without a bye', () => {
  /** A server that welcomes, then closes with `code` (no bye: a protocol violation, say). */
  async function breaking(code: number): Promise<string> {
    const http = createHttpServer();
    const wss = new WebSocketServer({ server: http });
    wss.on('connection', (ws) => {
      ws.once('message', () => {
        ws.send(JSON.stringify([{ type: 'welcome', v: 1, cid: 'c1', heartbeat: 25_000, time: Date.now() }]));
        setTimeout(() => ws.close(code, 'broken'), 20);
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => (wss.close(), http.close(resolve), http.closeAllConnections())));
    return `http://127.0.0.1:${(http.address() as AddressInfo).port}/rt`;
  }

  it.each([1002, 1008, 1011, 4003])('close %i is an error event with the code, and the client reconnects', async (code) => {
    const { client: c, errors } = client(await breaking(code), 'websocket');
    await waitFor(() => expect(errors.length).toBeGreaterThan(0));
    expect(errors[0]).toMatchObject({ code: 'SERVER_CLOSED', message: `${code} broken` });
    await waitFor(() => expect(c.state).toBe('open'));
  });

  it('a normal close (1000) is no error: only a reconnect', async () => {
    const { client: c, errors } = client(await breaking(1000), 'websocket');
    const states: string[] = [];
    c.on('state', ({ to }) => states.push(to));
    await waitFor(() => expect(states.filter((s) => s === 'open').length).toBeGreaterThan(1));
    expect(errors).toEqual([]);
  });
});
