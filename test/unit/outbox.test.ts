// The outbox on its own: ids, settling once, the frames to resend, rejecting everything.
import { describe, expect, it, vi } from 'vitest';
import { createOutbox } from '../../src/client/outbox.js';

const pending = () => ({ resolve: vi.fn(), reject: vi.fn() });

describe('outbox', () => {
  it('makes ids unique within a client and across clients', () => {
    const one = createOutbox();
    const other = createOutbox();
    const ids = [one.nextId(), one.nextId(), other.nextId(), other.nextId()];
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]{2,64}$/);
  });

  it('settles a publish once: a cursor resolves, an error rejects, a repeat or an unknown id does nothing', () => {
    const outbox = createOutbox();
    const a = pending();
    const b = pending();
    outbox.add('a', '{"id":"a"}', a.resolve, a.reject);
    outbox.add('b', '{"id":"b"}', b.resolve, b.reject);
    expect(outbox.size).toBe(2);
    outbox.settle('a', { epoch: 'e', seq: 1 });
    outbox.settle('a', { epoch: 'e', seq: 2 });
    outbox.settle('nobody', { epoch: 'e', seq: 3 });
    const refused = new Error('FORBIDDEN');
    outbox.settle('b', refused);
    expect(a.resolve).toHaveBeenCalledTimes(1);
    expect(a.resolve).toHaveBeenCalledWith({ epoch: 'e', seq: 1 });
    expect(b.reject).toHaveBeenCalledWith(refused);
    expect([a.reject, b.resolve].map((fn) => fn.mock.calls.length)).toEqual([0, 0]);
    expect(outbox.size).toBe(0);
  });

  it('gives the frames of what is still pending, oldest first, as they were added', () => {
    const outbox = createOutbox();
    for (const id of ['1', '2', '3']) outbox.add(id, `{"id":"${id}"}`, vi.fn(), vi.fn());
    outbox.settle('2', { epoch: 'e', seq: 1 });
    expect(outbox.frames()).toEqual(['{"id":"1"}', '{"id":"3"}']);
  });

  it('rejects every pending publish with one error and is empty after it', () => {
    const outbox = createOutbox();
    const entries = [pending(), pending()];
    entries.forEach((entry, i) => outbox.add(String(i), '{}', entry.resolve, entry.reject));
    const closed = new Error('CLOSED');
    outbox.rejectAll(closed);
    for (const entry of entries) expect(entry.reject).toHaveBeenCalledWith(closed);
    expect(outbox.size).toBe(0);
    expect(outbox.frames()).toEqual([]);
  });
});
