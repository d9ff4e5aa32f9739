// How SSE and long polling coalesce client frames: one /send in flight, everything queued
// meanwhile in the next, in order and within the server's limits; a /send the network holds
// unanswered ends the transport. Run once per transport, plus takeBatch on its own.
import { http, HttpResponse, sse as mockSse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { longpoll } from '../../src/longpoll.js';
import { sse } from '../../src/sse.js';
import { MAX_FRAMES_PER_SEND, takeBatch } from '../../src/transports/http.js';
import type { TransportFactory } from '../../src/transports/transport.js';
import { deferred, recordingContext, settle } from '../helpers/transport-context.js';

const base = 'http://localhost/rt';
// The bye that close() posts is answered unless a test serves /send itself.
const server = setupServer(http.post(`${base}/send`, () => new HttpResponse(null, { status: 204 })));

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const pub = (n: number, data = '') => `{"type":"pub","id":"m${n}","channel":"c","data":"${data}"}`;
const ids = (body: string) => (JSON.parse(body) as { id: string }[]).map((frame) => frame.id);

describe('takeBatch', () => {
  it('joins the oldest messages into one wire message, in order, and leaves none behind', () => {
    const queue = [1, 2, 3].map((n) => `[${pub(n)}]`);
    expect(takeBatch(queue, 1_000_000)).toBe(`[${pub(1)},${pub(2)},${pub(3)}]`);
    expect(queue).toEqual([]);
  });

  it(`takes at most ${MAX_FRAMES_PER_SEND} frames and leaves the rest queued, in order`, () => {
    const queue = Array.from({ length: 250 }, (_, i) => `[${pub(i)}]`);
    const first = ids(takeBatch(queue, 1_000_000));
    expect(first).toHaveLength(100);
    expect(first[0]).toBe('m0');
    expect(first[99]).toBe('m99');
    expect(ids(takeBatch(queue, 1_000_000))[0]).toBe('m100');
    expect(ids(takeBatch(queue, 1_000_000))).toHaveLength(50);
    expect(queue).toEqual([]);
  });

  it('keeps a batch within maxChars characters', () => {
    const queue = Array.from({ length: 10 }, (_, i) => `[${pub(i, 'x'.repeat(100))}]`);
    const size = queue[0]!.length;
    const batch = takeBatch(queue, size * 3 + 1);
    expect(ids(batch)).toEqual(['m0', 'm1', 'm2']);
    expect(batch.length).toBeLessThanOrEqual(size * 3 + 1);
    expect(queue).toHaveLength(7);
  });

  it('sends a message over the size limit alone, so the server refuses its frame by its id', () => {
    const big = `[${pub(1, 'x'.repeat(500))}]`;
    const queue = [big, `[${pub(2)}]`];
    expect(takeBatch(queue, 100)).toBe(big);
    expect(takeBatch(queue, 100)).toBe(`[${pub(2)}]`);
  });
});

/** Serves /connect, the welcome downstream, and /send into `bodies` (each answered when `answer` says). */
function serve(name: 'sse' | 'longpoll', welcome: string, answer: (body: string) => Promise<Response | undefined> | undefined) {
  const bodies: string[] = [];
  server.use(
    http.post(`${base}/connect`, () => HttpResponse.json({ cid: 'c1', key: 'k1' })),
    name === 'sse'
      ? mockSse(`${base}/sse`, ({ client }) => client.send({ data: welcome }))
      : http.get(`${base}/poll`, ({ request }) =>
          new URL(request.url).searchParams.get('ack') === '0'
            ? HttpResponse.text(welcome)
            : new Promise<HttpResponse<string>>((resolve) =>
                request.signal.addEventListener('abort', () => resolve(HttpResponse.text('[]'))),
              ),
        ),
    http.post(`${base}/send`, async ({ request }) => {
      const body = await request.text();
      bodies.push(body);
      return (await answer(body)) ?? new HttpResponse(null, { status: 204 });
    }),
  );
  return bodies;
}

describe.each([
  ['sse', sse],
  ['longpoll', longpoll],
] as ['sse' | 'longpoll', TransportFactory][])('%s: coalesced sends', (name, factory) => {
  it('holds what is sent while a /send is in flight and sends it all in the next, in order', async () => {
    const held = deferred();
    const bodies = serve(name, '[{"type":"welcome"}]', (body) => (ids(body)[0] === 'm0' ? held.promise.then(() => undefined) : undefined));
    const { ctx, messages, closes } = recordingContext(base);
    const transport = factory(ctx);
    await vi.waitFor(() => expect(messages).toHaveLength(1));
    transport.send(`[${pub(0)}]`);
    await vi.waitFor(() => expect(bodies).toHaveLength(1));
    for (let i = 1; i <= 250; i++) transport.send(`[${pub(i)}]`);
    await settle();
    expect(bodies).toHaveLength(1); // one request in flight
    held.resolve();
    await vi.waitFor(() => expect(bodies).toHaveLength(4));
    expect(bodies.map((body) => ids(body).length)).toEqual([1, 100, 100, 50]);
    expect(bodies.flatMap(ids)).toEqual(Array.from({ length: 251 }, (_, i) => `m${i}`));
    expect(closes).toEqual([]);
    transport.close();
  });

  it('sends what is sent in one go together, from the first request', async () => {
    const bodies = serve(name, '[{"type":"welcome"}]', () => undefined);
    const { ctx, messages } = recordingContext(base);
    const transport = factory(ctx);
    await vi.waitFor(() => expect(messages).toHaveLength(1));
    for (let i = 0; i < 30; i++) transport.send(`[${pub(i)}]`);
    await vi.waitFor(() => expect(bodies.flatMap(ids)).toHaveLength(30));
    expect(bodies).toHaveLength(1);
    transport.close();
  });

  it('ends the transport when a /send goes unanswered for twice the heartbeat, aborting it, and sends no more', async () => {
    const aborted = vi.fn();
    const bodies = serve(name, '[{"type":"welcome","heartbeat":20}]', () => new Promise<Response>(() => {}));
    const watch = ({ request }: { request: Request }) => {
      if (request.url.includes('/send')) request.signal.addEventListener('abort', aborted);
    };
    server.events.on('request:start', watch);
    onTestFinished(() => server.events.removeListener('request:start', watch));
    const { ctx, messages, closes } = recordingContext(base);
    const transport = factory(ctx);
    await vi.waitFor(() => expect(messages).toHaveLength(1));
    transport.send(`[${pub(1)}]`);
    transport.send(`[${pub(2)}]`);
    await vi.waitFor(() => expect(closes).toEqual([{ code: 1006, reason: '/send: no answer within 40 ms' }]));
    await vi.waitFor(() => expect(aborted).toHaveBeenCalled());
    transport.send(`[${pub(3)}]`);
    await settle();
    expect(bodies.flatMap(ids)).toEqual(['m1', 'm2']);
    expect(closes).toHaveLength(1);
  });

  it('sends nothing queued after a send failed, and the failure ends the transport once', async () => {
    const bodies = serve(name, '[{"type":"welcome"}]', () =>
      Promise.resolve(HttpResponse.json({ error: { code: 'INTERNAL' } }, { status: 500 })),
    );
    const { ctx, messages, closes } = recordingContext(base);
    const transport = factory(ctx);
    await vi.waitFor(() => expect(messages).toHaveLength(1));
    transport.send(`[${pub(1)}]`);
    await vi.waitFor(() => expect(bodies).toHaveLength(1));
    transport.send(`[${pub(2)}]`);
    await vi.waitFor(() => expect(closes).toHaveLength(1));
    await settle();
    expect(bodies).toHaveLength(1);
    expect(closes).toEqual([{ code: 1006, reason: '/send: HTTP 500 INTERNAL', error: 'INTERNAL' }]);
  });
});
