// The real client with the real transports against msw-mocked servers: the whole protocol on
// each transport, and negotiation through network trouble a fake transport cannot show.
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient, type Client, type ClientOptions, type LifelineError } from '../../src/index.js';
import type { TransportName } from '../../src/transports/transport.js';
import { mockLifeline, type MockOptions } from '../helpers/mock-lifeline.js';

const base = 'http://localhost/rt';
const server = setupServer();
const clients: Client[] = [];

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  server.resetHandlers();
});
afterAll(() => server.close());

function setup(mock: MockOptions, options: ClientOptions = {}) {
  const lifeline = mockLifeline(base, mock);
  server.use(...lifeline.handlers);
  const client = createClient(base, { rememberTransport: false, ...options });
  clients.push(client);
  const errors: LifelineError[] = [];
  client.on('error', (error) => errors.push(error));
  return { lifeline, client, errors };
}

describe.each(['websocket', 'sse', 'longpoll'] as TransportName[])('client over a mocked %s server', (transport) => {
  it('subscribes, receives, publishes, and sends the token only where it belongs', async () => {
    const { lifeline, client } = setup({}, { transports: [transport], token: () => 'tok-42' });
    const received: unknown[] = [];
    client.subscribe('news').on('message', (data) => received.push(data));
    await vi.waitFor(() => expect(lifeline.received.map((f) => f.type)).toContain('sub'));
    expect(client.transport).toBe(transport);
    lifeline.publish('news', 'from the server');
    await vi.waitFor(() => expect(received).toEqual(['from the server']));
    await expect(client.publish('news', 'from the client')).resolves.toEqual({ epoch: 'e1', seq: 2 });
    await vi.waitFor(() => expect(received).toEqual(['from the server', 'from the client']));
    expect(lifeline.tokens).toEqual(['tok-42']);
    expect(lifeline.urls.join(' ')).not.toContain('tok-42');
  });
});

describe('negotiation with real transports', () => {
  it('fails over to SSE at once when the WebSocket closes before its welcome', async () => {
    // A long stagger: only an immediate failover can open within 10 s.
    const { client } = setup({ websocket: 'refused' }, { stagger: 30_000 });
    await vi.waitFor(() => expect(client.transport).toBe('sse'), { timeout: 10_000 });
    expect(client.state).toBe('open');
  });

  it('starts SSE beside a hanging WebSocket after the stagger; SSE wins and the WebSocket is closed', async () => {
    const { client, lifeline } = setup({ websocket: 'hanging' }, { stagger: 50 });
    await vi.waitFor(() => expect(client.transport).toBe('sse'));
    expect([...lifeline.connections.values()].map((c) => c.transport)).toEqual(['sse']);
    await vi.waitFor(() => expect(lifeline.socketsClosed()).toBe(1));
  });

  it('falls to long polling when a proxy buffers the SSE stream, and closes that stream', async () => {
    const closed = vi.fn();
    const EventSourceClass = class extends globalThis.EventSource {
      override close() {
        closed();
        super.close();
      }
    };
    const { client } = setup({ websocket: 'refused', sse: 'hanging' }, { stagger: 50, EventSource: EventSourceClass });
    await vi.waitFor(() => expect(client.transport).toBe('longpoll'));
    expect(closed).toHaveBeenCalled();
  });

  it('treats a captive portal page as a failed transport and keeps trying, without throwing', async () => {
    const { client, errors } = setup(
      { websocket: 'refused', sse: 'portal', longpoll: 'portal' },
      { reconnect: { initialDelay: 10, maxDelay: 20 } },
    );
    await vi.waitFor(() => expect(errors.filter((e) => e.code === 'CONNECT_FAILED').length).toBeGreaterThanOrEqual(2));
    expect(client.state).toBe('connecting');
    expect(client.transport).toBeNull();
  });
});
