import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { longpoll } from '../../src/longpoll.js';
import { recordingContext, settle } from '../helpers/transport-context.js';

const base = 'http://localhost/rt';
// The bye that close() posts is answered unless a test serves /send itself.
const server = setupServer(http.post(`${base}/send`, () => new HttpResponse(null, { status: 204 })));

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

/**
 * Serves /connect and answers polls from a script, one answer per poll; once the script
 * runs out, polls are held until the client aborts them.
 */
function servePolls(answers: (() => Response)[]) {
  const acks: string[] = [];
  const aborted = vi.fn();
  server.use(
    http.post(`${base}/connect`, () => HttpResponse.json({ cid: 'c1' })),
    http.get(`${base}/poll`, ({ request }) => {
      const url = new URL(request.url);
      expect(url.searchParams.get('cid')).toBe('c1');
      acks.push(url.searchParams.get('ack')!);
      const answer = answers.shift();
      if (answer) return answer();
      request.signal.addEventListener('abort', aborted);
      return new Promise<Response>(() => {});
    }),
  );
  return { acks, aborted };
}

const text = (body: string) => () => HttpResponse.text(body, { headers: { 'Content-Type': 'application/json' } });

describe('longpoll transport', () => {
  it('acknowledges the number of frames received so far, and forwards every answer', async () => {
    const answers = ['[{"type":"welcome"},{"type":"subscribed"}]', '[]', '[{"type":"msg","seq":1}]'];
    const { acks } = servePolls(answers.map(text));
    const { ctx, messages, closes } = recordingContext(base);
    const transport = longpoll(ctx);
    await vi.waitFor(() => expect(acks).toEqual(['0', '2', '2', '3']));
    // `[]` too: an empty answer is the long poll's heartbeat.
    expect(messages).toEqual(answers);
    expect(closes).toEqual([]);
    transport.close();
  });

  it.each([
    ['a 204', () => new HttpResponse(null, { status: 204 }), '/poll: HTTP 204'],
    ['a 500', () => HttpResponse.json({ error: { code: 'INTERNAL' } }, { status: 500 }), '/poll: HTTP 500'],
    ['a 202 with a JSON array', () => HttpResponse.json([], { status: 202 }), '/poll: HTTP 202'],
    ['a captive portal page', () => HttpResponse.html('<html>sign in</html>'), expect.stringMatching(/^\/poll: SyntaxError/)],
    ['a JSON object', () => HttpResponse.json({ frames: [] }), expect.stringMatching(/^\/poll: TypeError/)],
    ['a JSON string', () => HttpResponse.json('[]'), expect.stringMatching(/^\/poll: TypeError/)],
    ['a network error', () => HttpResponse.error(), expect.stringMatching(/^\/poll: TypeError/)],
  ])('ends on %s and polls no more', async (_, answer, reason) => {
    const code = 1006;
    const { acks } = servePolls([text('[{"type":"welcome"}]'), answer]);
    const { ctx, messages, closes } = recordingContext(base);
    longpoll(ctx);
    await vi.waitFor(() => expect(closes).toEqual([{ code, reason }]));
    await settle();
    expect(closes).toHaveLength(1);
    expect(acks).toEqual(['0', '1']);
    expect(messages).toEqual(['[{"type":"welcome"}]']);
  });

  it('passes a bye frame on, then ends and stops polling', async () => {
    const last = '[{"type":"msg","seq":1},{"type":"bye","code":1012,"reason":"restarting"}]';
    const { acks } = servePolls([text('[{"type":"welcome"}]'), text(last)]);
    const { ctx, messages, closes } = recordingContext(base);
    longpoll(ctx);
    await vi.waitFor(() => expect(closes).toEqual([{ code: 1000, reason: 'bye' }]));
    expect(messages).toEqual(['[{"type":"welcome"}]', last]);
    await settle();
    expect(acks).toEqual(['0', '1']);
  });

  it('close() aborts the poll in flight and polls no more', async () => {
    const { acks, aborted } = servePolls([text('[{"type":"welcome"}]')]);
    const { ctx, messages, closes } = recordingContext(base);
    const transport = longpoll(ctx);
    await vi.waitFor(() => expect(acks).toEqual(['0', '1']));
    transport.close();
    await vi.waitFor(() => expect(aborted).toHaveBeenCalledTimes(1));
    await settle();
    expect(acks).toEqual(['0', '1']);
    expect(messages).toEqual(['[{"type":"welcome"}]']);
    expect(closes).toEqual([]);
  });

  it('polls no more when the session closes it while handling an answer', async () => {
    const { acks } = servePolls([text('[{"type":"welcome"}]'), text('[]')]);
    const context = recordingContext(base);
    const transport = longpoll({ ...context.ctx, onMessage: () => transport.close() });
    await vi.waitFor(() => expect(acks).toEqual(['0']));
    await settle();
    expect(acks).toEqual(['0']);
    expect(context.closes).toEqual([]);
  });

  it('ends, without an unhandled rejection, when an answer breaks off mid-body', async () => {
    const { acks } = servePolls([
      text('[{"type":"welcome"}]'),
      () =>
        new HttpResponse(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('[{"type":"msg"'));
              controller.error(new Error('connection reset'));
            },
          }),
          { headers: { 'Content-Type': 'application/json' } },
        ),
    ]);
    const { ctx, messages, closes } = recordingContext(base);
    longpoll(ctx);
    await vi.waitFor(() => expect(closes).toEqual([{ code: 1006, reason: expect.stringMatching(/^\/poll: .*connection reset/) }]));
    await settle();
    expect(acks).toEqual(['0', '1']);
    expect(messages).toEqual(['[{"type":"welcome"}]']);
  });
});
