// The subscriptions on their own: the `sub` frames they send, the answers owed per channel,
// resume frames for a new link, delivery and unsubscribe.
import { describe, expect, it, vi } from 'vitest';
import { createSubscriptions } from '../../src/client/subscriptions.js';

function setup() {
  const sent: unknown[][] = [];
  const subscriptions = createSubscriptions(
    (text) => sent.push(JSON.parse(text) as unknown[]),
    (listener) => listener,
  );
  return { subscriptions, sent };
}

const msg = (seq: number, data: unknown = seq) => ({ type: 'msg', channel: 'c', epoch: 'e', seq, data }) as const;

describe('subscriptions', () => {
  it('sends a sub when subscribing, with the cursor to resume after, and returns the active one again', () => {
    const { subscriptions, sent } = setup();
    const sub = subscriptions.subscribe('c', { epoch: 'e', seq: 4 });
    expect(subscriptions.subscribe('c', undefined)).toBe(sub);
    expect(sent).toEqual([[{ type: 'sub', channel: 'c', since: { epoch: 'e', seq: 4 } }]]);
  });

  it('delivers in order once its answer placed it, and drops repeats', () => {
    const { subscriptions } = setup();
    const sub = subscriptions.subscribe('c', undefined);
    const seen: unknown[] = [];
    sub.on('message', (data) => seen.push(data));
    subscriptions.handle({ type: 'subscribed', channel: 'c', epoch: 'e', seq: 0 });
    for (const seq of [1, 2, 2, 1, 3]) subscriptions.handle(msg(seq));
    expect(seen).toEqual([1, 2, 3]);
    expect(sub.cursor).toEqual({ epoch: 'e', seq: 3 });
  });

  it('resumes every subscription after its cursor on a new link', () => {
    const { subscriptions } = setup();
    subscriptions.subscribe('a', { epoch: 'e', seq: 1 });
    subscriptions.subscribe('b', undefined);
    expect(subscriptions.resumeFrames().map((text) => JSON.parse(text))).toEqual([
      { type: 'sub', channel: 'a', since: { epoch: 'e', seq: 1 } },
      { type: 'sub', channel: 'b' },
    ]);
  });

  it('applies only the answer to the last sub of a channel (unsubscribe + subscribe, as StrictMode does)', () => {
    const { subscriptions, sent } = setup();
    subscriptions.subscribe('c', undefined).unsubscribe();
    const again = subscriptions.subscribe('c', { epoch: 'e', seq: 5 });
    expect(sent.flat().map((frame) => (frame as { type: string }).type)).toEqual(['sub', 'unsub', 'sub']);
    // The answer to the first sub would place the cursor at 0: it is dropped.
    subscriptions.handle({ type: 'subscribed', channel: 'c', epoch: 'e', seq: 0 });
    expect(again.cursor).toEqual({ epoch: 'e', seq: 5 });
    // The answer to the second applies.
    subscriptions.handle({ type: 'subscribed', channel: 'c', epoch: 'E2', seq: 9 });
    expect(again.cursor).toEqual({ epoch: 'E2', seq: 9 });
  });

  it('resubscribes after its cursor when a seq is skipped, and drops what comes until the replay', () => {
    const { subscriptions, sent } = setup();
    const sub = subscriptions.subscribe('c', { epoch: 'e', seq: 1 });
    subscriptions.handle({ type: 'subscribed', channel: 'c', epoch: 'e', seq: 1 });
    const seen: unknown[] = [];
    sub.on('message', (data) => seen.push(data));
    subscriptions.handle(msg(3));
    subscriptions.handle(msg(4));
    expect(seen).toEqual([]);
    expect(sent.at(-1)).toEqual([{ type: 'sub', channel: 'c', since: { epoch: 'e', seq: 1 } }]);
    expect(sent).toHaveLength(2);
  });

  it('emits gap and goes on after it', () => {
    const { subscriptions } = setup();
    const sub = subscriptions.subscribe('c', { epoch: 'old', seq: 3 });
    const gaps = vi.fn();
    sub.on('gap', gaps);
    subscriptions.handle({ type: 'gap', channel: 'c', epoch: 'new', seq: 0, reason: 'epoch', from: { epoch: 'old', seq: 3 } });
    expect(gaps).toHaveBeenCalledWith({ channel: 'c', epoch: 'new', seq: 0, reason: 'epoch', from: { epoch: 'old', seq: 3 } });
    expect(sub.cursor).toEqual({ epoch: 'new', seq: 0 });
  });

  it('after unsubscribe, sends unsub once and delivers nothing more', () => {
    const { subscriptions, sent } = setup();
    const sub = subscriptions.subscribe('c', { epoch: 'e', seq: 0 });
    const seen = vi.fn();
    sub.on('message', seen);
    sub.unsubscribe();
    sub.unsubscribe();
    subscriptions.handle(msg(1));
    expect(seen).not.toHaveBeenCalled();
    expect(sent.flat().filter((frame) => (frame as { type: string }).type === 'unsub')).toHaveLength(1);
    expect(subscriptions.resumeFrames()).toEqual([]);
  });

  it('refuses nonsense channel names and cursors with a TypeError', () => {
    const { subscriptions } = setup();
    expect(() => subscriptions.subscribe('', undefined)).toThrow(TypeError);
    expect(() => subscriptions.subscribe('c', { epoch: 'e', seq: -1 })).toThrow(/since/);
  });
});
