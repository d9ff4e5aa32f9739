// Exactly-once publish: ids, the bounded outbox, resend after reconnect and transport change,
// acks resolving once, server refusals and close().
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeClient, flush } from '../helpers/fake-transport.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('publish and the outbox', () => {
  it('sends a pub with a client id and resolves with the position from the ack', async () => {
    const { client, fake } = fakeClient();
    await flush();
    fake.last().welcome();
    const result = client.publish('chat', { text: 'hi' });
    const [pub] = fake.last().frames('pub');
    expect(pub).toMatchObject({ type: 'pub', channel: 'chat', data: { text: 'hi' } });
    expect(typeof pub!.id).toBe('string');
    fake.last().deliver({ type: 'ack', id: pub!.id, channel: 'chat', epoch: 'e', seq: 3 });
    await expect(result).resolves.toEqual({ epoch: 'e', seq: 3 });
    client.close();
  });

  it('gives every publish its own id', async () => {
    const { client, fake } = fakeClient();
    await flush();
    fake.last().welcome();
    const pending = [client.publish('chat', 1), client.publish('chat', 2)];
    const ids = fake
      .last()
      .frames('pub')
      .map((p) => p.id);
    expect(new Set(ids).size).toBe(2);
    client.close();
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('gives two clients different ids even when both are handed the same seeded random', async () => {
    const seeded = () => 0.5;
    const a = fakeClient({ random: seeded });
    const b = fakeClient({ random: seeded });
    await flush();
    a.fake.last().welcome();
    b.fake.last().welcome();
    const pending = [a.client.publish('room', 'from a'), b.client.publish('room', 'from b')];
    const [idA] = a.fake
      .last()
      .frames('pub')
      .map((p) => p.id);
    const [idB] = b.fake
      .last()
      .frames('pub')
      .map((p) => p.id);
    expect(idA).not.toBe(idB);
    a.client.close();
    b.client.close();
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('holds publishes made while disconnected and sends them after the welcome', async () => {
    const { client, fake } = fakeClient();
    const result = client.publish('chat', 'early');
    await flush();
    expect(fake.last().sent).toEqual([]);
    fake.last().welcome();
    const [pub] = fake.last().frames('pub');
    expect(pub).toMatchObject({ data: 'early' });
    fake.last().deliver({ type: 'ack', id: pub!.id, channel: 'chat', epoch: 'e', seq: 1 });
    await expect(result).resolves.toEqual({ epoch: 'e', seq: 1 });
    client.close();
  });

  it('resends an unacknowledged publish with the same id on another transport; the ack resolves it once', async () => {
    const { client, fake } = fakeClient();
    await flush();
    fake.last('websocket').welcome();
    const resolved = vi.fn();
    void client.publish('chat', 'x').then(resolved);
    const first = fake.last('websocket').frames('pub')[0]!;
    fake.last('websocket').fail(1006);
    await vi.advanceTimersByTimeAsync(250);
    fake.last('websocket').fail(1006);
    fake.last('sse').welcome();
    const again = fake.last('sse').frames('pub');
    expect(again).toEqual([first]);
    // The server answers a repeated id with the original ack, possibly twice: one resolution.
    fake
      .last('sse')
      .deliver(
        { type: 'ack', id: first.id, channel: 'chat', epoch: 'e', seq: 9 },
        { type: 'ack', id: first.id, channel: 'chat', epoch: 'e', seq: 9 },
      );
    await flush();
    expect(resolved).toHaveBeenCalledTimes(1);
    expect(resolved).toHaveBeenCalledWith({ epoch: 'e', seq: 9 });
    // Acknowledged publishes are not resent after the next reconnect.
    fake.last('sse').fail(1006);
    await vi.advanceTimersByTimeAsync(1000);
    fake.last().welcome();
    expect(fake.last().frames('pub')).toEqual([]);
    client.close();
  });

  it('rejects with OUTBOX_FULL beyond outboxSize unacknowledged publishes', async () => {
    const { client } = fakeClient({ outboxSize: 2 });
    const a = client.publish('c', 1);
    const b = client.publish('c', 2);
    await expect(client.publish('c', 3)).rejects.toMatchObject({ code: 'OUTBOX_FULL', name: 'LifelineError' });
    client.close();
    await expect(a).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(b).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('keeps 1000 publishes by default, through a reconnect, and rejects the next with OUTBOX_FULL naming outboxSize', async () => {
    const { client, fake } = fakeClient();
    const pending = Array.from({ length: 1000 }, (_, i) => client.publish('c', i));
    await expect(client.publish('c', 'one more')).rejects.toMatchObject({
      code: 'OUTBOX_FULL',
      message: expect.stringContaining('(the outboxSize option)'),
    });
    await flush();
    fake.last().welcome();
    expect(
      fake
        .last()
        .frames('pub')
        .map((frame) => frame.data),
    ).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    client.close();
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('bounds the outbox by the characters of its frames too (outboxChars), and an ack frees them', async () => {
    const big = 'x'.repeat(400);
    const { client, fake } = fakeClient({ outboxChars: 1000 });
    await flush();
    fake.last().welcome();
    const first = client.publish('c', big);
    const second = client.publish('c', big);
    await expect(client.publish('c', big)).rejects.toMatchObject({
      code: 'OUTBOX_FULL',
      message: expect.stringContaining('(the outboxChars option)'),
    });
    // A small one still fits beside the two.
    const small = client.publish('c', 1);
    const [pub] = fake.last().frames('pub');
    fake.last().deliver({ type: 'ack', id: pub!.id, channel: 'c', epoch: 'e', seq: 1 });
    await expect(first).resolves.toEqual({ epoch: 'e', seq: 1 });
    const third = client.publish('c', big);
    expect(
      fake
        .last()
        .frames('pub')
        .map((frame) => frame.data),
    ).toEqual([big, big, 1, big]);
    client.close();
    for (const p of [second, small, third]) await expect(p).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('rejects with the server code when the server refuses the publish', async () => {
    const { client, fake } = fakeClient();
    await flush();
    fake.last().welcome();
    const result = client.publish('chat', 'x');
    const { id } = fake.last().frames('pub')[0]!;
    fake.last().deliver({ type: 'error', code: 'FORBIDDEN', message: 'not yours', id });
    await expect(result).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'not yours' });
    client.close();
  });

  it('rejects a publish over maxMessageSize with FRAME_TOO_LARGE, sends nothing, and stays connected', async () => {
    const { client, fake, errors } = fakeClient({ maxMessageSize: 200 });
    await flush();
    fake.last().welcome();
    await expect(client.publish('chat', 'x'.repeat(200))).rejects.toMatchObject({ code: 'FRAME_TOO_LARGE', name: 'LifelineError' });
    // The limit is on the whole encoded frame, so a payload just under it is refused as well.
    const frameOverhead = JSON.stringify({ type: 'pub', id: 'i', channel: 'chat', data: '' }).length;
    await expect(client.publish('chat', 'x'.repeat(200 - frameOverhead))).rejects.toMatchObject({ code: 'FRAME_TOO_LARGE' });
    expect(fake.last().frames('pub')).toEqual([]);
    const small = client.publish('chat', 'ok');
    expect(fake.last().frames('pub')).toHaveLength(1);
    expect(client.state).toBe('open');
    expect(errors).toEqual([]);
    client.close();
    await expect(small).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('resends each unacknowledged publish in a message of its own, after the resumes, one frame per message', async () => {
    const { client, fake } = fakeClient();
    client.subscribe('a');
    client.subscribe('b');
    const pending = [client.publish('chat', 1), client.publish('chat', 2), client.publish('chat', 3)];
    await flush();
    fake.last().welcome();
    // One frame per message, resumes first, then the publishes in order: the HTTP transports
    // batch them within the server's limits, and WebSocket sends them as they come.
    expect(fake.last().sent.map((message) => message.map((frame) => frame.type))).toEqual([['sub'], ['sub'], ['pub'], ['pub'], ['pub']]);
    expect(
      fake
        .last()
        .frames('pub')
        .map((frame) => frame.data),
    ).toEqual([1, 2, 3]);
    client.close();
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('rejects after close with CLOSED, and a bad channel with a TypeError', async () => {
    const { client } = fakeClient();
    await expect(client.publish('', 1)).rejects.toThrow(TypeError);
    client.close();
    await expect(client.publish('c', 1)).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('publish data JSON cannot carry as it is', () => {
  class Point {
    x = 1;
  }
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  it.each([
    ['undefined', undefined, 'data is undefined'],
    ['a function', () => 1, 'data is a function'],
    ['a symbol', Symbol('s'), 'data is Symbol(s)'],
    ['a BigInt', 1n, 'data is the BigInt 1n'],
    ['NaN', { n: Number.NaN }, 'data.n is NaN'],
    ['Infinity in an array', [1, Number.POSITIVE_INFINITY], 'data[1] is Infinity'],
    ['an undefined property', { a: { b: undefined } }, 'data.a.b is undefined'],
    ['a Map', { m: new Map([[1, 2]]) }, 'data.m is a Map'],
    ['a Set', { list: [new Set([1])] }, 'data.list[0] is a Set'],
    ['a class instance', { p: new Point() }, 'data.p is a Point'],
    ['a cycle', cycle, 'a cycle'],
  ])('rejects %s with BAD_DATA naming where it is, and sends nothing', async (_, data, where) => {
    const { client, fake } = fakeClient();
    await flush();
    fake.last().welcome();
    const error = await client.publish('c', data).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'LifelineError', code: 'BAD_DATA' });
    expect((error as Error).message).toContain(where);
    expect(fake.last().frames('pub')).toEqual([]);
    client.close();
  });

  it('accepts plain objects, arrays, null, an object without prototype and a Date (as its toJSON)', async () => {
    const { client, fake } = fakeClient();
    await flush();
    fake.last().welcome();
    const bare = Object.assign(Object.create(null) as object, { k: 'v' });
    const date = new Date(0);
    const pending = [{ a: [1, 'x', true, null] }, bare, date].map((data) => client.publish('c', data));
    expect(
      fake
        .last()
        .frames('pub')
        .map((frame) => frame.data),
    ).toEqual([{ a: [1, 'x', true, null] }, { k: 'v' }, date.toJSON()]);
    client.close();
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
