// Negotiation: preference order, immediate failover, stagger racing, welcome validation,
// connect timeout, remembered transport, flap demotion and the upward probe.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeClient, flush } from '../helpers/fake-transport.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('negotiation', () => {
  it('opens on the first transport once its welcome arrives, not before', async () => {
    const { client, fake, states, transports } = fakeClient();
    await flush();
    expect(fake.connections.map((c) => c.name)).toEqual(['websocket']);
    expect(client.state).toBe('connecting');
    expect(client.transport).toBeNull();
    fake.last().welcome();
    expect(client.state).toBe('open');
    expect(client.transport).toBe('websocket');
    expect(states).toEqual([{ from: 'connecting', to: 'open', reason: 'welcome' }]);
    expect(transports).toEqual(['websocket']);
    client.close();
  });

  it('fails over at once when a transport closes before its welcome', async () => {
    const { client, fake, errors } = fakeClient();
    await flush();
    fake.last('websocket').fail(1006);
    expect(fake.connections.map((c) => c.name)).toEqual(['websocket', 'sse']);
    fake.last('sse').fail(1006);
    expect(fake.connections.map((c) => c.name)).toEqual(['websocket', 'sse', 'longpoll']);
    fake.last('longpoll').welcome();
    expect(client.transport).toBe('longpoll');
    expect(errors).toEqual([]);
    client.close();
  });

  it('starts the next transport beside a hanging one after the stagger; the first welcome wins and the loser is closed', async () => {
    const { client, fake, transports } = fakeClient({ stagger: 300 });
    await flush();
    await vi.advanceTimersByTimeAsync(299);
    expect(fake.connections).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.connections.map((c) => c.name)).toEqual(['websocket', 'sse']);
    expect(fake.last('websocket').closed).toBe(false);
    fake.last('sse').welcome();
    expect(client.transport).toBe('sse');
    expect(fake.last('websocket').closed).toBe(true);
    // The loser's late welcome and frames are ignored, and no third transport starts.
    fake.last('websocket').welcome();
    fake.last('websocket').fail();
    await vi.advanceTimersByTimeAsync(5000);
    expect(client.transport).toBe('sse');
    expect(transports).toEqual(['sse']);
    expect(fake.connections).toHaveLength(2);
    client.close();
  });

  it('refuses a first frame that is not a valid welcome of version 1 and moves on', async () => {
    const { client, fake, errors } = fakeClient();
    await flush();
    fake.last('websocket').deliver({ type: 'ping' });
    expect(fake.last('websocket').closed).toBe(true);
    fake.last('sse').welcome({ v: 2 });
    fake.last('longpoll').deliver({ type: 'welcome', v: 1, cid: 'x', time: 1 });
    expect(errors.map((e) => e.code)).toEqual(['BAD_FRAME', 'UNSUPPORTED_VERSION', 'BAD_FRAME', 'CONNECT_FAILED']);
    expect(client.state).toBe('connecting');
    client.close();
  });

  it('reports a refusal sent before the welcome with the server code', async () => {
    const { client, fake, errors } = fakeClient({ transports: undefined }, ['websocket']);
    await flush();
    fake.last().deliver({ type: 'error', code: 'UNAUTHORIZED', message: 'bad token' });
    expect(errors[0]).toMatchObject({ code: 'UNAUTHORIZED', message: 'bad token', name: 'LifelineError' });
    client.close();
  });

  it('gives up the attempt after connectTimeout, closes every transport and retries with backoff', async () => {
    const { client, fake, errors } = fakeClient({ connectTimeout: 5000, stagger: 1000 });
    await flush();
    await vi.advanceTimersByTimeAsync(4999);
    expect(fake.connections).toHaveLength(3);
    expect(errors).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(errors.map((e) => e.code)).toEqual(['CONNECT_TIMEOUT']);
    expect(fake.connections.every((c) => c.closed)).toBe(true);
    // random 0.5 × 500 × 2^0
    await vi.advanceTimersByTimeAsync(249);
    expect(fake.connections).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.connections).toHaveLength(4);
    expect(fake.last().name).toBe('websocket');
    client.close();
  });

  it('reports CONNECT_FAILED when every transport closed before a welcome, with what each saw', async () => {
    const { client, fake, errors } = fakeClient();
    await flush();
    fake.last('websocket').fail(1006);
    fake.last('sse').fail(1006, '/connect: HTTP 404');
    fake.last('longpoll').fail(1006, '/connect: HTTP 404');
    expect(errors.map((e) => e.code)).toEqual(['CONNECT_FAILED']);
    expect(errors[0]!.attempts).toEqual([
      { transport: 'websocket', reason: 'closed 1006' },
      { transport: 'sse', reason: '/connect: HTTP 404' },
      { transport: 'longpoll', reason: '/connect: HTTP 404' },
    ]);
    // The sources are the development build: the message explains.
    expect(errors[0]!.message).toMatch(
      /^CONNECT_FAILED: could not connect to https:\/\/example.test\/rt \(websocket: closed 1006; sse: \/connect: HTTP 404;/,
    );
    expect(errors[0]!.message).toMatch(/base path/);
    expect(client.state).toBe('connecting');
    client.close();
  });

  it('a CONNECT_TIMEOUT names the transports that failed before it', async () => {
    const { client, fake, errors } = fakeClient({ connectTimeout: 3000 }, ['websocket', 'sse']);
    await flush();
    fake.last('websocket').fail(1006, 'WebSocket error');
    await vi.advanceTimersByTimeAsync(3000);
    expect(errors.map((e) => e.code)).toEqual(['CONNECT_TIMEOUT']);
    expect(errors[0]!.attempts).toEqual([{ transport: 'websocket', reason: 'WebSocket error' }]);
    client.close();
  });

  it.each([
    ['a number', 42],
    ['an object', { token: 'x' }],
    ['null', null],
  ])('fails the attempt with TOKEN_FAILED when the token function returns %s, before any transport starts', async (_, value) => {
    const { client, fake, errors } = fakeClient({ token: (() => value) as never });
    await flush();
    expect(errors.map((e) => e.code)).toEqual(['TOKEN_FAILED']);
    expect(errors[0]!.message).toMatch(/must return a string or undefined/);
    expect(fake.connections).toHaveLength(0);
    client.close();
  });

  it('takes a token function that returns undefined as no token', async () => {
    const { client, fake, errors } = fakeClient({ token: () => undefined });
    await flush();
    expect(fake.last().context.token).toBeUndefined();
    expect(errors).toEqual([]);
    client.close();
  });

  it('calls the token function on every connect and hands the token to the transport', async () => {
    let n = 0;
    const token = vi.fn(async () => `t${++n}`);
    const { client, fake } = fakeClient({ token });
    await flush();
    expect(fake.last().context.token).toBe('t1');
    expect(fake.last().context.url).toBe('https://example.test/rt');
    fake.last().welcome();
    fake.last().fail();
    await vi.advanceTimersByTimeAsync(1000);
    expect(token).toHaveBeenCalledTimes(2);
    expect(fake.last().context.token).toBe('t2');
    client.close();
  });

  it('a token promise that never settles fails the attempt after connectTimeout and is asked again', async () => {
    const token = vi
      .fn()
      .mockReturnValueOnce(new Promise<string>(() => {}))
      .mockResolvedValue('ok');
    const { client, fake, errors } = fakeClient({ token, connectTimeout: 3000 });
    await vi.advanceTimersByTimeAsync(2999);
    expect(errors).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(errors.map((e) => e.code)).toEqual(['CONNECT_TIMEOUT']);
    expect(fake.connections).toHaveLength(0);
    // random 0.5 × 500 × 2^0, then a fresh token.
    await vi.advanceTimersByTimeAsync(250);
    expect(token).toHaveBeenCalledTimes(2);
    expect(fake.last().context.token).toBe('ok');
    client.close();
  });

  it('reports a failing token function as TOKEN_FAILED and retries', async () => {
    const token = vi.fn().mockRejectedValueOnce(new Error('no auth')).mockResolvedValue('ok');
    const { client, fake, errors } = fakeClient({ token });
    await flush();
    expect(errors[0]).toMatchObject({ code: 'TOKEN_FAILED' });
    expect((errors[0]!.cause as Error).message).toBe('no auth');
    expect(fake.connections).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(250);
    expect(fake.last().context.token).toBe('ok');
    client.close();
  });
});

describe('remembered transport', () => {
  const storage = () => {
    const map = new Map<string, string>();
    return { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v), map };
  };

  it('starts next time with the transport that worked for this URL', async () => {
    const store = storage();
    vi.stubGlobal('sessionStorage', store);
    const first = fakeClient({ rememberTransport: true });
    await flush();
    first.fake.last('websocket').fail();
    first.fake.last('sse').welcome();
    first.client.close();
    const second = fakeClient({ rememberTransport: true });
    await flush();
    expect(second.fake.connections.map((c) => c.name)).toEqual(['sse']);
    second.fake.last().fail();
    expect(second.fake.connections.map((c) => c.name)).toEqual(['sse', 'websocket']);
    second.client.close();
  });

  it('forgets it after 30 minutes', async () => {
    vi.stubGlobal('sessionStorage', storage());
    const first = fakeClient({ rememberTransport: true });
    await flush();
    first.fake.last('websocket').fail();
    first.fake.last('sse').welcome();
    first.client.close();
    vi.setSystemTime(Date.now() + 30 * 60_000 + 1);
    const second = fakeClient({ rememberTransport: true });
    await flush();
    expect(second.fake.last().name).toBe('websocket');
    second.client.close();
  });

  it('works without storage, or with storage that throws', async () => {
    vi.stubGlobal('sessionStorage', {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceeded');
      },
    });
    const { client, fake } = fakeClient({ rememberTransport: true });
    await flush();
    fake.last().welcome();
    expect(client.state).toBe('open');
    client.close();
  });

  it('touches no storage when rememberTransport is false', async () => {
    const store = storage();
    vi.stubGlobal('sessionStorage', store);
    const { client, fake } = fakeClient({ rememberTransport: false });
    await flush();
    fake.last().welcome();
    expect(store.map.size).toBe(0);
    client.close();
  });
});

describe('without a fallback transport (no negotiation policy)', () => {
  // Only the SSE and long-polling factories bring the policy: a WebSocket-only client has
  // nothing to remember, demote or probe for.
  it('never demotes, remembers or probes: it reconnects on the transport it has', async () => {
    const storage = { getItem: vi.fn(() => null), setItem: vi.fn() };
    vi.stubGlobal('sessionStorage', storage);
    try {
      const { client, fake } = fakeClient({ rememberTransport: true, reconnect: { initialDelay: 100, maxDelay: 100 } }, ['websocket']);
      await flush();
      for (let i = 0; i < 4; i++) {
        fake.last().welcome();
        await vi.advanceTimersByTimeAsync(1000);
        fake.last().fail(1006);
        await vi.advanceTimersByTimeAsync(100);
      }
      expect(fake.connections.map((c) => c.name)).toEqual(['websocket', 'websocket', 'websocket', 'websocket', 'websocket']);
      expect(storage.getItem).not.toHaveBeenCalled();
      expect(storage.setItem).not.toHaveBeenCalled();
      client.close();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('flap demotion and upward probe', () => {
  it('skips a transport that opened and died quickly three times within a minute', async () => {
    const { client, fake } = fakeClient({ reconnect: { initialDelay: 100, maxDelay: 100 } });
    await flush();
    for (let i = 0; i < 3; i++) {
      expect(fake.last().name).toBe('websocket');
      fake.last().welcome();
      await vi.advanceTimersByTimeAsync(1000);
      fake.last().fail(1006);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(fake.last().name).toBe('sse');
    expect(fake.connections.filter((c) => c.name === 'websocket')).toHaveLength(3);
    client.close();
  });

  it('does not count closes the server asked for (bye: a rolling restart) as flaps', async () => {
    const { client, fake } = fakeClient({ reconnect: { initialDelay: 100, maxDelay: 100 } });
    await flush();
    for (let i = 0; i < 4; i++) {
      fake.last().welcome();
      await vi.advanceTimersByTimeAsync(1000);
      fake.last().deliver({ type: 'bye', code: 1012, reason: 'service restart' });
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(fake.connections.map((c) => c.name)).toEqual(Array(5).fill('websocket'));
    client.close();
  });

  it('does not demote a transport whose connections lived long enough', async () => {
    const { client, fake } = fakeClient({ reconnect: { initialDelay: 100, maxDelay: 100 } });
    await flush();
    for (let i = 0; i < 4; i++) {
      fake.last().welcome();
      await vi.advanceTimersByTimeAsync(5000);
      fake.last().fail(1006);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(fake.connections.map((c) => c.name)).toEqual(Array(5).fill('websocket'));
    client.close();
  });

  it('on a fallback, probes the better transport quietly and switches over when it welcomes', async () => {
    const { client, fake, states, transports } = fakeClient();
    await flush();
    fake.last('websocket').fail();
    const sse = fake.last('sse');
    sse.welcome();
    const sub = client.subscribe('chat');
    sse.deliver(
      { type: 'subscribed', channel: 'chat', epoch: 'e', seq: 4 },
      { type: 'msg', channel: 'chat', epoch: 'e', seq: 5, data: 'five' },
    );
    const published = client.publish('chat', 'hi');
    const received: unknown[] = [];
    sub.on('message', (data) => received.push(data));
    await vi.advanceTimersByTimeAsync(29_000);
    sse.deliver({ type: 'ping' });
    expect(fake.connections).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000);
    const ws = fake.last();
    expect(ws.name).toBe('websocket');
    expect(states).toHaveLength(1);
    ws.welcome();
    expect(client.transport).toBe('websocket');
    expect(transports).toEqual(['sse', 'websocket']);
    expect(sse.closed).toBe(true);
    expect(states).toHaveLength(1);
    // Resume after the cursor and the same publish id on the new transport.
    expect(ws.frames('sub')).toEqual([{ type: 'sub', channel: 'chat', since: { epoch: 'e', seq: 5 } }]);
    const pub = ws.frames('pub')[0]!;
    expect(pub).toEqual(sse.frames('pub')[0]);
    ws.deliver(
      { type: 'subscribed', channel: 'chat', epoch: 'e', seq: 5 },
      { type: 'msg', channel: 'chat', epoch: 'e', seq: 6, data: 'six' },
      { type: 'ack', id: pub.id, channel: 'chat', epoch: 'e', seq: 7 },
    );
    await expect(published).resolves.toEqual({ epoch: 'e', seq: 7 });
    expect(received).toEqual(['six']);
    client.close();
  });

  it('probes again once a demotion has run out, instead of staying on the fallback for good', async () => {
    const { client, fake } = fakeClient({ reconnect: { initialDelay: 100, maxDelay: 100 } });
    await flush();
    for (let i = 0; i < 3; i++) {
      fake.last().welcome();
      await vi.advanceTimersByTimeAsync(1000);
      fake.last().fail(1006);
      await vi.advanceTimersByTimeAsync(100);
    }
    // WebSocket is demoted for five minutes; SSE carries the session.
    fake.last('sse').welcome({ heartbeat: 0 });
    const websockets = () => fake.connections.filter((c) => c.name === 'websocket').length;
    await vi.advanceTimersByTimeAsync(290_000);
    expect(websockets()).toBe(3);
    expect(client.transport).toBe('sse');
    // Probes with nothing to try wait 30 s, 60 s, 120 s, 240 s: the one at 450 s, after the
    // demotion ran out, tries it.
    await vi.advanceTimersByTimeAsync(161_000);
    expect(websockets()).toBe(4);
    fake.last('websocket').welcome();
    expect(client.transport).toBe('websocket');
    client.close();
  });

  it('keeps the fallback when the probe fails, and probes again later', async () => {
    const { client, fake, errors, states } = fakeClient();
    await flush();
    fake.last('websocket').fail();
    fake.last('sse').welcome({ heartbeat: 0 });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(fake.last().name).toBe('websocket');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fake.last().closed).toBe(true);
    expect(client.transport).toBe('sse');
    expect(errors).toEqual([]);
    expect(states).toHaveLength(1);
    const count = fake.connections.length;
    await vi.advanceTimersByTimeAsync(59_000);
    expect(fake.connections).toHaveLength(count);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.connections).toHaveLength(count + 1);
    client.close();
  });
});
