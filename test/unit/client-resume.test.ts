// Resume and dedup: cursors, repeats dropped, a seq jump repaired by resubscribing, gaps and
// epoch changes reported, in order and exactly once across reconnects.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GapInfo, MessageMeta } from '../../src/core.js';
import { fakeClient, flush } from '../helpers/fake-transport.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const msg = (seq: number, epoch = 'e1', channel = 'news') => ({ type: 'msg', channel, epoch, seq, data: `m${seq}` });

async function subscribed(since?: { epoch: string; seq: number }) {
  const setup = fakeClient();
  await flush();
  setup.fake.last().welcome();
  const sub = setup.client.subscribe('news', since ? { since } : undefined);
  const received: [unknown, MessageMeta][] = [];
  const gaps: GapInfo[] = [];
  sub.on('message', (data, meta) => void received.push([data, meta]));
  sub.on('gap', (info) => void gaps.push(info));
  return { ...setup, sub, received, gaps, data: () => received.map(([data]) => data) };
}

describe('resume and dedup', () => {
  it('subscribes at the head, then delivers each message with its position', async () => {
    const { client, fake, sub, received } = await subscribed();
    expect(fake.last().frames('sub')).toEqual([{ type: 'sub', channel: 'news' }]);
    expect(sub.cursor).toBeUndefined();
    fake.last().deliver({ type: 'subscribed', channel: 'news', epoch: 'e1', seq: 10 }, msg(11), msg(12));
    expect(received).toEqual([
      ['m11', { channel: 'news', epoch: 'e1', seq: 11 }],
      ['m12', { channel: 'news', epoch: 'e1', seq: 12 }],
    ]);
    expect(sub.cursor).toEqual({ epoch: 'e1', seq: 12 });
    client.close();
  });

  it('drops messages at or below the cursor', async () => {
    const { client, fake, data } = await subscribed();
    fake.last().deliver({ type: 'subscribed', channel: 'news', epoch: 'e1', seq: 0 }, msg(1), msg(2), msg(1), msg(2), msg(3));
    expect(data()).toEqual(['m1', 'm2', 'm3']);
    client.close();
  });

  it('drops messages that arrive before the subscription is confirmed', async () => {
    const { client, fake, data } = await subscribed();
    fake.last().deliver(msg(7), { type: 'subscribed', channel: 'news', epoch: 'e1', seq: 7 }, msg(8));
    expect(data()).toEqual(['m8']);
    client.close();
  });

  it('repairs a seq jump by resubscribing after the cursor, once, and delivers the replay in order', async () => {
    const { client, fake, data } = await subscribed();
    const ws = fake.last();
    ws.deliver({ type: 'subscribed', channel: 'news', epoch: 'e1', seq: 0 }, msg(1), msg(3), msg(4));
    expect(data()).toEqual(['m1']);
    expect(ws.frames('sub')).toEqual([
      { type: 'sub', channel: 'news' },
      { type: 'sub', channel: 'news', since: { epoch: 'e1', seq: 1 } },
    ]);
    ws.deliver({ type: 'subscribed', channel: 'news', epoch: 'e1', seq: 1 }, msg(2), msg(3), msg(4), msg(5));
    expect(data()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    client.close();
  });

  it('treats a message of another epoch as a hole and reports the gap the server answers', async () => {
    const { client, fake, data, gaps, sub } = await subscribed();
    const ws = fake.last();
    ws.deliver({ type: 'subscribed', channel: 'news', epoch: 'e1', seq: 0 }, msg(1), msg(1, 'e2'));
    expect(ws.frames('sub').at(-1)).toEqual({ type: 'sub', channel: 'news', since: { epoch: 'e1', seq: 1 } });
    ws.deliver(
      { type: 'gap', channel: 'news', epoch: 'e2', seq: 0, reason: 'epoch', from: { epoch: 'e1', seq: 1 } },
      msg(1, 'e2'),
      msg(2, 'e2'),
    );
    expect(gaps).toEqual([{ channel: 'news', reason: 'epoch', from: { epoch: 'e1', seq: 1 }, epoch: 'e2', seq: 0 }]);
    expect(data()).toEqual(['m1', 'm1', 'm2']);
    expect(sub.cursor).toEqual({ epoch: 'e2', seq: 2 });
    client.close();
  });

  it('reports a window gap and goes on after it', async () => {
    const { client, fake, data, gaps } = await subscribed({ epoch: 'e1', seq: 3 });
    expect(fake.last().frames('sub')).toEqual([{ type: 'sub', channel: 'news', since: { epoch: 'e1', seq: 3 } }]);
    fake.last().deliver({ type: 'gap', channel: 'news', epoch: 'e1', seq: 50, reason: 'window', from: { epoch: 'e1', seq: 3 } }, msg(51));
    expect(gaps.map((g) => g.reason)).toEqual(['window']);
    expect(data()).toEqual(['m51']);
    client.close();
  });

  it('resumes every subscription after its cursor on each reconnect: nothing lost, nothing twice', async () => {
    const { client, fake, data } = await subscribed();
    fake.last().deliver({ type: 'subscribed', channel: 'news', epoch: 'e1', seq: 0 }, msg(1), msg(2));
    fake.last().fail(1006);
    await vi.advanceTimersByTimeAsync(250);
    const next = fake.last();
    next.welcome();
    expect(next.sent[0]).toEqual([{ type: 'sub', channel: 'news', since: { epoch: 'e1', seq: 2 } }]);
    next.deliver({ type: 'subscribed', channel: 'news', epoch: 'e1', seq: 2 }, msg(2), msg(3));
    expect(data()).toEqual(['m1', 'm2', 'm3']);
    client.close();
  });

  it('resumes from a saved cursor after a reload (since), and the first welcome sends it', async () => {
    const { client, fake } = fakeClient();
    const sub = client.subscribe('news', { since: { epoch: 'e9', seq: 41 } });
    expect(sub.cursor).toEqual({ epoch: 'e9', seq: 41 });
    await flush();
    fake.last().welcome();
    expect(fake.last().sent).toEqual([[{ type: 'sub', channel: 'news', since: { epoch: 'e9', seq: 41 } }]]);
    client.close();
  });

  it('returns the same subscription for the same channel, and unsubscribes on the wire', async () => {
    const { client, fake, sub, data } = await subscribed();
    expect(client.subscribe('news')).toBe(sub);
    expect(fake.last().frames('sub')).toHaveLength(1);
    fake.last().deliver({ type: 'subscribed', channel: 'news', epoch: 'e1', seq: 0 });
    sub.unsubscribe();
    expect(fake.last().frames('unsub')).toEqual([{ type: 'unsub', channel: 'news' }]);
    fake.last().deliver(msg(1));
    expect(data()).toEqual([]);
    fake.last().fail();
    await vi.advanceTimersByTimeAsync(250);
    fake.last().welcome();
    expect(fake.last().frames('sub')).toEqual([]);
    client.close();
  });

  it('reports a refused subscribe with the server code and the channel', async () => {
    const { client, fake, errors } = await subscribed();
    fake.last().deliver({ type: 'error', code: 'FORBIDDEN', message: 'no', channel: 'news' });
    expect(errors[0]).toMatchObject({ code: 'FORBIDDEN' });
    expect(errors[0]!.message).toContain('news');
    client.close();
  });

  it('rejects nonsense channel names and cursors with a TypeError', async () => {
    const { client } = fakeClient();
    expect(() => client.subscribe('')).toThrow(TypeError);
    expect(() => client.subscribe('x'.repeat(257))).toThrow(TypeError);
    expect(() => client.subscribe('ok', { since: { epoch: '', seq: 1 } })).toThrow(TypeError);
    expect(() => client.subscribe('ok', { since: { epoch: 'e', seq: -1 } })).toThrow(TypeError);
    client.close();
  });
});
