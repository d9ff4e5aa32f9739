import { ws as mockWs } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { websocket } from '../../src/websocket.js';
import { recordingContext, settle } from '../helpers/transport-context.js';

const link = mockWs.link('ws://localhost/rt/ws');
const server = setupServer();

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

type Connection = Parameters<Parameters<typeof link.addEventListener<'connection'>>[1]>[0];

/** Serves the link and collects each connection and what its client sent. */
function serve(onConnection?: (connection: Connection) => void) {
  const connections: Connection[] = [];
  const received: string[] = [];
  server.use(
    link.addEventListener('connection', (connection) => {
      connections.push(connection);
      connection.client.addEventListener('message', (event) => received.push(String(event.data)));
      onConnection?.(connection);
    }),
  );
  return { connections, received };
}

describe('websocket transport', () => {
  it('is named for client.transport', () => {
    expect(websocket.transportName).toBe('websocket');
  });

  it('opens ws(s)://{url}/ws and sends hello with the token, keeping the token out of the URL', async () => {
    const { connections, received } = serve();
    const { ctx } = recordingContext('http://localhost/rt', { token: 's3cret' });
    const transport = websocket(ctx);
    await vi.waitFor(() => expect(received).toHaveLength(1));
    expect(connections[0]!.client.url.href).toBe('ws://localhost/rt/ws');
    expect(JSON.parse(received[0]!)).toEqual([{ type: 'hello', v: 1, token: 's3cret' }]);
    transport.close();
  });

  it('turns https into wss', async () => {
    const secure = mockWs.link('wss://example.com/base/ws');
    const urls: string[] = [];
    server.use(secure.addEventListener('connection', ({ client }) => urls.push(client.url.href)));
    const transport = websocket(recordingContext('https://example.com/base').ctx);
    await vi.waitFor(() => expect(urls).toEqual(['wss://example.com/base/ws']));
    transport.close();
  });

  it('sends hello without a token field when there is no token', async () => {
    const { received } = serve();
    const transport = websocket(recordingContext('http://localhost/rt').ctx);
    await vi.waitFor(() => expect(received).toHaveLength(1));
    expect(JSON.parse(received[0]!)).toEqual([{ type: 'hello', v: 1 }]);
    transport.close();
  });

  it('forwards each text message as received and sends wire messages once open', async () => {
    const { received } = serve(({ client }) => {
      client.addEventListener('message', () => client.send('[{"type":"welcome"}]'));
    });
    const { ctx, messages } = recordingContext('http://localhost/rt');
    const transport = websocket(ctx);
    transport.send('[{"type":"ping"}]'); // still CONNECTING: the session never does this, and it is dropped
    await vi.waitFor(() => expect(messages).toEqual(['[{"type":"welcome"}]']));
    transport.send('[{"type":"sub","channel":"a"}]');
    await vi.waitFor(() => expect(received).toHaveLength(2));
    expect(received[1]).toBe('[{"type":"sub","channel":"a"}]');
    expect(received).not.toContain('[{"type":"ping"}]');
    transport.close();
  });

  it.each([
    [4001, 'unauthorized'],
    [1012, 'service restart'],
    [1006, ''],
  ])('reports the server close code %i once', async (code, reason) => {
    serve(({ client }) => client.addEventListener('message', () => client.close(code, reason)));
    const { ctx, closes } = recordingContext('http://localhost/rt');
    websocket(ctx);
    await vi.waitFor(() => expect(closes).toEqual([{ code, reason }]));
    await settle();
    expect(closes).toHaveLength(1);
  });

  it('close() stops all callbacks and closes the socket', async () => {
    const clientClosed = vi.fn();
    const { connections, received } = serve(({ client }) => client.addEventListener('close', clientClosed));
    const { ctx, messages, closes } = recordingContext('http://localhost/rt');
    const transport = websocket(ctx);
    await vi.waitFor(() => expect(received).toHaveLength(1));
    transport.close();
    transport.close();
    connections[0]!.client.send('[{"type":"msg"}]');
    await vi.waitFor(() => expect(clientClosed).toHaveBeenCalledTimes(1));
    await settle();
    expect(messages).toEqual([]);
    expect(closes).toEqual([]);
  });

  it('close() while still connecting sends nothing and reports nothing', async () => {
    const { received } = serve();
    const { ctx, messages, closes } = recordingContext('http://localhost/rt');
    websocket(ctx).close();
    await settle();
    expect(received).toEqual([]);
    expect(messages).toEqual([]);
    expect(closes).toEqual([]);
  });

  it('uses the global WebSocket when none is injected', async () => {
    const { received } = serve();
    const transport = websocket(recordingContext('http://localhost/rt', { WebSocket: undefined }).ctx);
    await vi.waitFor(() => expect(received).toHaveLength(1));
    transport.close();
  });

  it('throws what a refusing WebSocket constructor throws, and reports nothing', async () => {
    const Refusing = class {
      constructor() {
        throw new SyntaxError('The URL is invalid');
      }
    } as unknown as typeof WebSocket;
    const { ctx, closes } = recordingContext('http://localhost/rt', { WebSocket: Refusing });
    expect(() => websocket(ctx)).toThrow(SyntaxError);
    await settle();
    expect(closes).toEqual([]);
  });
});
