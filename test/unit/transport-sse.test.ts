import { http, HttpResponse, sse as mockSse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sse } from '../../src/sse.js';
import { recordingContext, settle } from '../helpers/transport-context.js';

const base = 'http://localhost/rt';
// The bye that close() posts is answered unless a test serves /send itself.
const server = setupServer(http.post(`${base}/send`, () => new HttpResponse(null, { status: 204 })));
const streams: string[] = [];

beforeAll(() => {
  server.listen({ onUnhandledRequest: 'error' });
  server.events.on('request:start', ({ request }) => {
    if (request.url.includes('/sse')) streams.push(request.url);
  });
});
afterEach(() => {
  server.resetHandlers();
  streams.length = 0;
});
afterAll(() => server.close());

type Client = Parameters<Parameters<typeof mockSse<{ message: string }>>[1]>[0]['client'];

/** Serves /connect and /sse, handing each stream's client to the test. */
function serve() {
  const clients: Client[] = [];
  server.use(
    http.post(`${base}/connect`, () => HttpResponse.json({ cid: 'c1' })),
    mockSse<{ message: string }>(`${base}/sse`, ({ client }) => {
      clients.push(client);
    }),
  );
  return clients;
}

/** Injects an EventSource that remembers its instances, to check they were closed. */
function recordingEventSource() {
  const instances: EventSource[] = [];
  const EventSourceClass = class extends globalThis.EventSource {
    constructor(url: string | URL, init?: EventSourceInit) {
      super(url, init);
      instances.push(this);
    }
  };
  return { instances, EventSource: EventSourceClass };
}

describe('sse transport', () => {
  it('opens {url}/sse?cid= and forwards each event as one wire message', async () => {
    const clients = serve();
    const { ctx, messages } = recordingContext(base);
    const transport = sse(ctx);
    await vi.waitFor(() => expect(clients).toHaveLength(1));
    expect(streams).toEqual([`${base}/sse?cid=c1`]);
    clients[0]!.send({ data: '[{"type":"welcome"}]' });
    clients[0]!.send({ data: '[{"type":"msg","seq":1},{"type":"msg","seq":2}]' });
    await vi.waitFor(() => expect(messages).toEqual(['[{"type":"welcome"}]', '[{"type":"msg","seq":1},{"type":"msg","seq":2}]']));
    transport.close();
  });

  it('closes the EventSource and reports 1006 once when the stream ends, without the browser retry', async () => {
    const clients = serve();
    const { instances, EventSource } = recordingEventSource();
    const { ctx, messages, closes } = recordingContext(base, { EventSource });
    sse(ctx);
    await vi.waitFor(() => expect(clients).toHaveLength(1));
    // A short retry makes a browser-style reconnect happen at once if the stream were left open.
    clients[0]!.send({ retry: 1 });
    clients[0]!.send({ data: '[{"type":"welcome"}]' });
    await vi.waitFor(() => expect(messages).toHaveLength(1));
    clients[0]!.close();
    await vi.waitFor(() => expect(closes).toEqual([{ code: 1006, reason: '/sse: stream failed' }]));
    expect(instances[0]!.readyState).toBe(EventSource.CLOSED);
    await settle();
    expect(closes).toHaveLength(1);
    expect(streams).toHaveLength(1);
  });

  // (msw's `client.error()` rejects the stream with no reason, which the eventsource polyfill
  // cannot handle, so failures are mocked at the request instead.)
  it.each([
    ['a network error', () => HttpResponse.error()],
    ['a 404 for a used cid', () => HttpResponse.json({ error: {} }, { status: 404 })],
  ])('closes the EventSource and reports 1006 once when the stream gets %s', async (_, answer) => {
    server.use(
      http.post(`${base}/connect`, () => HttpResponse.json({ cid: 'c1' })),
      http.get(`${base}/sse`, answer),
    );
    const { instances, EventSource } = recordingEventSource();
    const { ctx, messages, closes } = recordingContext(base, { EventSource });
    sse(ctx);
    await vi.waitFor(() => expect(closes).toEqual([{ code: 1006, reason: '/sse: stream failed' }]));
    expect(instances[0]!.readyState).toBe(EventSource.CLOSED);
    await settle();
    expect(closes).toHaveLength(1);
    expect(messages).toEqual([]);
    expect(streams).toHaveLength(1);
  });

  it('close() closes the EventSource and forwards nothing more', async () => {
    const clients = serve();
    const { instances, EventSource } = recordingEventSource();
    const { ctx, messages, closes } = recordingContext(base, { EventSource });
    const transport = sse(ctx);
    await vi.waitFor(() => expect(clients).toHaveLength(1));
    clients[0]!.send({ data: '[{"type":"welcome"}]' });
    await vi.waitFor(() => expect(messages).toHaveLength(1));
    transport.close();
    expect(instances[0]!.readyState).toBe(EventSource.CLOSED);
    await settle();
    expect(messages).toHaveLength(1);
    expect(closes).toEqual([]);
  });

  it('uses the global EventSource when none is injected', async () => {
    const clients = serve();
    const transport = sse(recordingContext(base, { EventSource: undefined }).ctx);
    await vi.waitFor(() => expect(clients).toHaveLength(1));
    transport.close();
  });

  it('reports an EventSource that refuses to construct as a failed transport', async () => {
    serve();
    const Refusing = class {
      constructor() {
        throw new SyntaxError('The URL is invalid');
      }
    } as unknown as typeof EventSource;
    const { ctx, closes } = recordingContext(base, { EventSource: Refusing });
    sse(ctx);
    await vi.waitFor(() => expect(closes).toEqual([{ code: 1006, reason: expect.stringContaining('SyntaxError') }]));
  });
});
