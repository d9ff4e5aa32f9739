// Lifecycle: state events only on change, listener exceptions contained, bad server input
// reported and recovered from, options validated, and close() leaving nothing behind.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient as createFullClient } from '../../src/index.js';
import { createClient } from '../../src/core.js';
import { fakeClient, fakeTransports, flush } from '../helpers/fake-transport.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('state machine', () => {
  it('emits each change once, with its reason, and nothing when the state stays', async () => {
    const { client, fake, states } = fakeClient({}, ['websocket']);
    await flush();
    fake.last().fail(); // still connecting: no event
    await vi.advanceTimersByTimeAsync(250);
    fake.last().welcome();
    fake.last().fail(1012, 'restart');
    await vi.advanceTimersByTimeAsync(250);
    fake.last().fail(); // still reconnecting: no event
    await vi.advanceTimersByTimeAsync(500);
    fake.last().welcome();
    client.close();
    client.close();
    expect(states).toEqual([
      { from: 'connecting', to: 'open', reason: 'welcome' },
      // A close code of the server's own after the welcome is its news, as a bye would be.
      { from: 'open', to: 'reconnecting', reason: 'SERVER_CLOSED' },
      { from: 'reconnecting', to: 'open', reason: 'welcome' },
      { from: 'open', to: 'closed', reason: 'close' },
    ]);
    expect(client.state).toBe('closed');
    expect(client.transport).toBeNull();
  });

  it('returns unbind functions from on()', async () => {
    const { client, fake } = fakeClient({}, ['websocket']);
    const seen = vi.fn();
    const unbind = client.on('state', seen);
    unbind();
    await flush();
    fake.last().welcome();
    expect(seen).not.toHaveBeenCalled();
    client.close();
  });
});

describe('listener exceptions', () => {
  it('reports a throwing listener as LISTENER_ERROR and still calls the others', async () => {
    const { client, fake, errors } = fakeClient({}, ['websocket']);
    const after = vi.fn();
    client.on('state', () => {
      throw new Error('app bug');
    });
    client.on('state', after);
    await flush();
    fake.last().welcome();
    expect(after).toHaveBeenCalledTimes(1);
    expect(client.state).toBe('open');
    expect(errors[0]).toMatchObject({ code: 'LISTENER_ERROR' });
    expect((errors[0]!.cause as Error).message).toBe('app bug');
    client.close();
  });

  it('keeps delivering messages after a message listener threw', async () => {
    const { client, fake, errors } = fakeClient({}, ['websocket']);
    await flush();
    fake.last().welcome();
    const sub = client.subscribe('c');
    const got: unknown[] = [];
    sub.on('message', (data) => {
      got.push(data);
      if (data === 1) throw new Error('boom');
    });
    fake
      .last()
      .deliver(
        { type: 'subscribed', channel: 'c', epoch: 'e', seq: 0 },
        { type: 'msg', channel: 'c', epoch: 'e', seq: 1, data: 1 },
        { type: 'msg', channel: 'c', epoch: 'e', seq: 2, data: 2 },
      );
    expect(got).toEqual([1, 2]);
    expect(sub.cursor).toEqual({ epoch: 'e', seq: 2 });
    expect(errors.map((e) => e.code)).toEqual(['LISTENER_ERROR']);
    client.close();
  });

  it('swallows a throw from an error listener instead of looping', async () => {
    const { client, fake } = fakeClient({}, ['websocket']);
    client.on('error', () => {
      throw new Error('again');
    });
    await flush();
    expect(() => fake.last().raw('not json')).not.toThrow();
    client.close();
  });
});

describe('bad server input', () => {
  async function open(options = {}) {
    const setup = fakeClient(options, ['websocket']);
    await flush();
    setup.fake.last().welcome();
    return setup;
  }

  it.each([
    ['not json', 'BAD_JSON'],
    ['{"type":"ping"}', 'BAD_FRAME'],
    ['[{"type":"msg","channel":"c"}]', 'BAD_FRAME'],
    ['[42]', 'BAD_FRAME'],
  ])('reports %s as %s and reconnects', async (text, code) => {
    const { client, fake, errors } = await open();
    const link = fake.last();
    link.raw(text);
    expect(errors.map((e) => e.code)).toEqual([code]);
    expect(link.closed).toBe(true);
    expect(client.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(250);
    expect(fake.connections).toHaveLength(2);
    client.close();
  });

  it('refuses a message over maxMessageSize with FRAME_TOO_LARGE', async () => {
    const { client, fake, errors } = await open({ maxMessageSize: 100 });
    fake.last().raw(`[{"type":"ping","pad":"${'x'.repeat(100)}"}]`);
    expect(errors.map((e) => e.code)).toEqual(['FRAME_TOO_LARGE']);
    client.close();
  });

  it('ignores frame types it does not know, and stray frames for unknown channels', async () => {
    const { client, fake, errors } = await open();
    fake
      .last()
      .deliver(
        { type: 'future-thing', x: 1 },
        { type: 'msg', channel: 'nobody', epoch: 'e', seq: 1, data: null },
        { type: 'ack', id: 'zzz', channel: 'c', epoch: 'e', seq: 1 },
      );
    expect(errors).toEqual([]);
    expect(client.state).toBe('open');
    client.close();
  });

  it('reports bye as SERVER_CLOSED with its code and reconnects', async () => {
    const { client, fake, errors } = await open();
    fake.last().deliver({ type: 'bye', code: 1012, reason: 'restart' });
    expect(errors[0]).toMatchObject({ code: 'SERVER_CLOSED' });
    expect(errors[0]!.message).toContain('1012');
    expect(client.state).toBe('reconnecting');
    client.close();
  });

  it('reports a connection-level error frame and stays open', async () => {
    const { client, fake, errors } = await open();
    fake.last().deliver({ type: 'error', code: 'INTERNAL', message: 'oops' });
    expect(errors[0]).toMatchObject({ code: 'INTERNAL', message: 'oops' });
    expect(client.state).toBe('open');
    client.close();
  });
});

describe('close()', () => {
  it.each([
    ['while racing transports', async () => {}],
    ['while open with heartbeats', async (f: ReturnType<typeof fakeTransports>) => f.last().welcome()],
    [
      'while waiting to reconnect',
      async (f: ReturnType<typeof fakeTransports>) => {
        f.last().welcome();
        f.last().fail();
      },
    ],
    [
      'while probing upward',
      async (f: ReturnType<typeof fakeTransports>) => {
        f.last('websocket').fail();
        f.last('sse').welcome();
        await vi.advanceTimersByTimeAsync(30_000);
        f.last('sse').deliver({ type: 'ping' });
      },
    ],
  ])('leaves no timers and no open transport %s', async (_, scenario) => {
    const { client, fake, states } = fakeClient({ stagger: 100 });
    await flush();
    await vi.advanceTimersByTimeAsync(50);
    await scenario(fake);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    client.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(fake.connections.every((c) => c.closed)).toBe(true);
    expect(states.at(-1)!.to).toBe('closed');
    // Late callbacks from the closed transports change nothing.
    for (const c of fake.connections) c.welcome();
    expect(client.state).toBe('closed');
    expect(client.transport).toBeNull();
  });

  it('does not start a connection when a slow token resolves after close', async () => {
    let release!: (token: string) => void;
    const { client, fake } = fakeClient({ token: () => new Promise<string>((resolve) => (release = resolve)) });
    await flush();
    client.close();
    release('late');
    await flush();
    expect(fake.connections).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });
  it('after close, subscribe opens nothing and its subscription never delivers', async () => {
    const { client, fake } = fakeClient();
    await flush();
    fake.last().welcome();
    client.close();
    const sent = fake.connections.map((c) => c.sent.length);
    const messages: unknown[] = [];
    client.subscribe('late').on('message', (data) => messages.push(data));
    await vi.advanceTimersByTimeAsync(60_000);
    // A late frame from the closed connection reaches no one.
    fake.last().deliver({ type: 'msg', channel: 'late', epoch: 'e', seq: 1, data: 'x' });
    expect(messages).toEqual([]);
    expect(fake.connections.map((c) => c.sent.length)).toEqual(sent);
    expect(fake.connections).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('options', () => {
  const transports = fakeTransports().factories;

  it.each([
    ['a missing url', undefined, {}],
    ['a negative delay', 'https://x/rt', { reconnect: { initialDelay: -1 } }],
    ['a NaN timeout', 'https://x/rt', { connectTimeout: NaN }],
    ['a boolean given for a number', 'https://x/rt', { reconnect: { maxDelay: true } }],
    ['an infinite timeout (a timer beyond 2^31 - 1 ms fires at once)', 'https://x/rt', { connectTimeout: Infinity }],
    ['a delay past the timer limit', 'https://x/rt', { reconnect: { maxDelay: 2 ** 31 } }],
    ['a string stagger', 'https://x/rt', { stagger: '1s' }],
    ['a negative outbox size', 'https://x/rt', { outboxSize: -1 }],
    ['a numeric token', 'https://x/rt', { token: 42 }],
    ['a non-function fetch', 'https://x/rt', { fetch: 'fetch' }],
    ['an empty transport list', 'https://x/rt', { transports: [] }],
  ])('throws a TypeError for %s', (_, url, options) => {
    expect(() => createClient(url as string, { transports, ...options } as never)).toThrow(TypeError);
  });

  it('throws a TypeError naming an unknown transport', () => {
    expect(() => createFullClient('https://x/rt', { transports: ['carrier-pigeon' as never] })).toThrow(/carrier-pigeon/);
  });

  it('requires transports in lifeline-rt/core', () => {
    expect(() => createClient('https://x/rt', {} as never)).toThrow(TypeError);
  });

  it('treats explicit undefined as the default and strips a trailing slash from the url', async () => {
    const fake = fakeTransports(['websocket']);
    const client = createClient('https://x/rt/', { transports: fake.factories, connectTimeout: undefined, reconnect: undefined });
    await flush();
    expect(fake.last().context.url).toBe('https://x/rt');
    client.close();
  });
});

describe('close() from inside a listener', () => {
  it.each(['state', 'transport'] as const)('leaves no timers when a %s listener closes the client on a drop', async (event) => {
    const { client, fake } = fakeClient({}, ['websocket', 'sse']);
    await flush();
    fake.last().fail();
    fake.last().welcome();
    client.on(event, () => client.close());
    fake.last().fail();
    expect(client.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves no timers when a listener closes the client on open', async () => {
    const { client, fake } = fakeClient({}, ['websocket', 'sse']);
    client.on('transport', () => client.close());
    await flush();
    fake.last().fail();
    fake.last().welcome();
    expect(client.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });
});
