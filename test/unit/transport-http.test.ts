// What SSE and long polling share: POST /connect, the token in a header only, POST /send in
// order, and how refusals and close() end them. Run once per transport.
import { http, HttpResponse, sse as mockSse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { longpoll } from '../../src/longpoll.js';
import { sse } from '../../src/sse.js';
import type { TransportFactory } from '../../src/transports/transport.js';
import { deferred, recordingContext, settle } from '../helpers/transport-context.js';

const base = 'http://localhost/rt';
const welcome = '[{"type":"welcome"}]';
// The bye that close() posts is answered unless a test serves /send itself.
const server = setupServer(http.post(`${base}/send`, () => new HttpResponse(null, { status: 204 })));
const urls: string[] = [];

beforeAll(() => {
  server.listen({ onUnhandledRequest: 'error' });
  server.events.on('request:start', ({ request }) => urls.push(request.url));
});
afterEach(() => {
  server.resetHandlers();
  urls.length = 0;
});
afterAll(() => server.close());

/** Holds a mocked request open until the client aborts it. */
const untilAborted = (request: Request) =>
  new Promise<HttpResponse<string>>((resolve) => request.signal.addEventListener('abort', () => resolve(HttpResponse.text('[]'))));

/** The downstream half of each transport: the welcome, then an open stream or a held poll. */
const downstream = {
  sse: () => mockSse(`${base}/sse`, ({ client }) => client.send({ data: welcome })),
  longpoll: () =>
    http.get(`${base}/poll`, async ({ request }) =>
      new URL(request.url).searchParams.get('ack') === '0' ? HttpResponse.text(welcome) : await untilAborted(request),
    ),
};

const connectOk = () => http.post(`${base}/connect`, () => HttpResponse.json({ cid: 'c/1', key: 'key-1' }));

describe.each([
  ['sse', sse],
  ['longpoll', longpoll],
] as [keyof typeof downstream, TransportFactory][])('%s transport over HTTP', (name, factory) => {
  it('is named for client.transport', () => {
    expect(factory.transportName).toBe(name);
  });

  it('proves the connection on every request after /connect with its key, in the Authorization header only', async () => {
    const seen: { path: string; url: string; authorization: string | null }[] = [];
    const note = (request: Request) =>
      seen.push({ path: new URL(request.url).pathname, url: request.url, authorization: request.headers.get('authorization') });
    server.use(
      connectOk(),
      http.get(`${base}/poll`, async ({ request }) => {
        note(request);
        return new URL(request.url).searchParams.get('ack') === '0' ? HttpResponse.text(welcome) : await untilAborted(request);
      }),
      http.post(`${base}/send`, ({ request }) => {
        note(request);
        return new HttpResponse(null, { status: 204 });
      }),
    );
    if (name === 'sse') server.use(downstream.sse());
    const { ctx, messages } = recordingContext(base);
    const transport = factory(ctx);
    await vi.waitFor(() => expect(messages).toEqual([welcome]));
    transport.send('[{"type":"ping"}]');
    await vi.waitFor(() => expect(seen.filter((r) => r.path === '/rt/send')).toHaveLength(1));
    expect(seen.length).toBeGreaterThanOrEqual(name === 'longpoll' ? 2 : 1);
    for (const request of seen) {
      expect(request.authorization).toBe('Bearer key-1');
      expect(request.url).not.toContain('key-1');
    }
    transport.close();
  });

  it('connects with the token in the Authorization header only, never in a URL', async () => {
    const connects: { body: unknown; authorization: string | null }[] = [];
    server.use(
      http.post(`${base}/connect`, async ({ request }) => {
        connects.push({ body: await request.json(), authorization: request.headers.get('authorization') });
        return HttpResponse.json({ cid: 'c/1' });
      }),
      downstream[name](),
    );
    const { ctx, messages } = recordingContext(base, { token: 'tok-123' });
    const transport = factory(ctx);
    await vi.waitFor(() => expect(messages).toEqual([welcome]));
    expect(connects).toEqual([{ body: { v: 1, transport: name }, authorization: 'Bearer tok-123' }]);
    expect(urls[1]).toContain(`/rt/${name === 'sse' ? 'sse' : 'poll'}?cid=c%2F1`);
    expect(urls.join(' ')).not.toContain('tok-123');
    transport.close();
  });

  it('sends no Authorization header without a token', async () => {
    const authorization = vi.fn();
    server.use(
      http.post(`${base}/connect`, ({ request }) => {
        authorization(request.headers.get('authorization'));
        return HttpResponse.json({ cid: 'c1' });
      }),
      downstream[name](),
    );
    const { ctx, messages } = recordingContext(base);
    const transport = factory(ctx);
    await vi.waitFor(() => expect(messages).toEqual([welcome]));
    expect(authorization).toHaveBeenCalledWith(null);
    transport.close();
  });

  it.each([401, 429, 500])('ends with 1006 naming HTTP %i from /connect', async (status) => {
    server.use(http.post(`${base}/connect`, () => HttpResponse.json({ error: {} }, { status })));
    const { ctx, closes } = recordingContext(base);
    factory(ctx);
    await vi.waitFor(() => expect(closes).toEqual([{ code: 1006, reason: `/connect: HTTP ${status}` }]));
    await settle();
    expect(urls).toHaveLength(1);
  });

  it("reports the server's error code from /connect's body, so a refused token is UNAUTHORIZED", async () => {
    server.use(http.post(`${base}/connect`, () => HttpResponse.json({ error: { code: 'UNAUTHORIZED', message: 'no' } }, { status: 401 })));
    const { ctx, closes } = recordingContext(base);
    factory(ctx);
    await vi.waitFor(() => expect(closes).toEqual([{ code: 1006, reason: '/connect: HTTP 401 UNAUTHORIZED', error: 'UNAUTHORIZED' }]));
  });

  it.each([
    ['a network error', () => HttpResponse.error()],
    ['an HTML page', () => HttpResponse.html('<html>portal</html>')],
  ])('ends with 1006 on %s from /connect', async (_, answer) => {
    server.use(http.post(`${base}/connect`, answer));
    const { ctx, closes, messages } = recordingContext(base);
    factory(ctx);
    await vi.waitFor(() => expect(closes).toEqual([{ code: 1006, reason: expect.stringMatching(/^\/connect: /) }]));
    expect(messages).toEqual([]);
  });

  it('ends with 1006 when /connect answers without a cid, once the server refuses it', async () => {
    server.use(
      http.post(`${base}/connect`, () => HttpResponse.json({ id: 1 })),
      http.get(`${base}/${name === 'sse' ? 'sse' : 'poll'}`, () => HttpResponse.json({ error: {} }, { status: 404 })),
    );
    const { ctx, closes, messages } = recordingContext(base);
    factory(ctx);
    await vi.waitFor(() => expect(closes).toEqual([{ code: 1006, reason: expect.stringMatching(/^\/(sse|poll)/) }]));
    expect(messages).toEqual([]);
  });

  it('calls fetch unbound, as a browser requires, and the global one when none is injected', async () => {
    server.use(
      connectOk(),
      downstream[name](),
      http.post(`${base}/send`, () => new HttpResponse(null, { status: 204 })),
    );
    // A browser's fetch throws "Illegal invocation" when called as a method of another object.
    const strictFetch = function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
      if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation');
      return globalThis.fetch(input, init);
    };
    for (const fetch of [strictFetch, undefined]) {
      const { ctx, messages, closes } = recordingContext(base, { fetch });
      const transport = factory(ctx);
      await vi.waitFor(() => expect(messages).toEqual([welcome]));
      transport.send('[{"type":"ping"}]');
      await vi.waitFor(() => expect(urls.filter((url) => url.includes('/send'))).toHaveLength(fetch ? 1 : 2));
      expect(closes).toEqual([]);
      transport.close();
    }
  });

  it('posts wire messages as text/plain to /send, one request at a time and in order', async () => {
    const sends: { url: string; type: string | null; body: string }[] = [];
    const firstHeld = deferred();
    server.use(
      connectOk(),
      downstream[name](),
      http.post(`${base}/send`, async ({ request }) => {
        sends.push({ url: request.url, type: request.headers.get('content-type'), body: await request.text() });
        if (sends.length === 1) await firstHeld.promise;
        return new HttpResponse(null, { status: 204 });
      }),
    );
    const { ctx, messages, closes } = recordingContext(base);
    const transport = factory(ctx);
    await vi.waitFor(() => expect(messages).toEqual([welcome]));
    transport.send('[{"type":"sub","channel":"a"}]');
    await vi.waitFor(() => expect(sends).toHaveLength(1));
    transport.send('[{"type":"unsub","channel":"a"}]');
    await settle();
    expect(sends).toHaveLength(1); // the second waits for the first: the server must see them in order
    firstHeld.resolve();
    await vi.waitFor(() => expect(sends).toHaveLength(2));
    expect(sends).toEqual([
      { url: `${base}/send?cid=c%2F1`, type: 'text/plain;charset=UTF-8', body: '[{"type":"sub","channel":"a"}]' },
      { url: `${base}/send?cid=c%2F1`, type: 'text/plain;charset=UTF-8', body: '[{"type":"unsub","channel":"a"}]' },
    ]);
    expect(closes).toEqual([]);
    transport.close();
  });

  it('ends the transport once when fetch throws at once on a send, with no unhandled rejection', async () => {
    server.use(connectOk(), downstream[name]());
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      // An injected fetch (Node, tests) may throw instead of rejecting.
      const fetch = (input: RequestInfo | URL, init?: RequestInit) => {
        if (String(input).includes('/send')) throw new TypeError('no network here');
        return globalThis.fetch(input, init);
      };
      const { ctx, messages, closes } = recordingContext(base, { fetch });
      const transport = factory(ctx);
      await vi.waitFor(() => expect(messages).toEqual([welcome]));
      transport.send('[{"type":"ping"}]');
      transport.send('[{"type":"ping"}]');
      await vi.waitFor(() => expect(closes).toEqual([{ code: 1006, reason: '/send: TypeError: no network here' }]));
      await settle();
      expect(closes).toHaveLength(1);
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it.each([
    ['HTTP 404', () => HttpResponse.json({ error: {} }, { status: 404 }), '/send: HTTP 404'],
    ['a network error', () => HttpResponse.error(), expect.stringMatching(/^\/send: TypeError/)],
  ])('ends the transport once when a send fails with %s', async (_, answer, reason) => {
    server.use(connectOk(), downstream[name](), http.post(`${base}/send`, answer));
    const { ctx, messages, closes } = recordingContext(base);
    const transport = factory(ctx);
    await vi.waitFor(() => expect(messages).toEqual([welcome]));
    transport.send('[{"type":"ping"}]');
    transport.send('[{"type":"ping"}]');
    await vi.waitFor(() => expect(closes).toEqual([{ code: 1006, reason }]));
    await settle();
    expect(closes).toHaveLength(1);
    expect(urls.filter((url) => url.includes('/send'))).toHaveLength(1);
  });

  it('close() during /connect aborts it and reports nothing', async () => {
    const aborted = vi.fn();
    const entered = vi.fn();
    server.use(
      http.post(`${base}/connect`, ({ request }) => {
        request.signal.addEventListener('abort', aborted);
        entered();
        return new Promise<Response>(() => {});
      }),
    );
    const { ctx, messages, closes } = recordingContext(base);
    const transport = factory(ctx);
    await vi.waitFor(() => expect(entered).toHaveBeenCalled());
    transport.close();
    await vi.waitFor(() => expect(aborted).toHaveBeenCalled());
    await settle();
    expect(urls).toHaveLength(1);
    expect(messages).toEqual([]);
    expect(closes).toEqual([]);
  });

  it('close() after open reports nothing and sends only a bye, with keepalive', async () => {
    const byes: { body: string; keepalive: boolean; authorization: string | null }[] = [];
    server.use(
      connectOk(),
      downstream[name](),
      http.post(`${base}/send`, async ({ request }) => {
        byes.push({ body: await request.text(), keepalive: request.keepalive, authorization: request.headers.get('authorization') });
        return new HttpResponse(null, { status: 204 });
      }),
    );
    const { ctx, messages, closes } = recordingContext(base);
    const transport = factory(ctx);
    await vi.waitFor(() => expect(messages).toEqual([welcome]));
    transport.close();
    transport.close();
    transport.send('[{"type":"ping"}]');
    await vi.waitFor(() => expect(byes).toHaveLength(1));
    await settle();
    expect(byes).toEqual([{ body: '[{"type":"bye"}]', keepalive: true, authorization: 'Bearer key-1' }]);
    expect(messages).toEqual([welcome]);
    expect(closes).toEqual([]);
  });
});
