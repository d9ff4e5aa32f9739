import type { Cursor } from '../protocol/index.js';

/** A publish awaiting its ack. */
interface Pending {
  /** The encoded `pub` frame, resent as is so the server recognises its id. */
  frame: string;
  resolve(position: Cursor): void;
  reject(error: Error): void;
}

/**
 * Publishes awaiting their ack, oldest first. Ids are a random prefix and a counter: unique
 * per client and stable across resends, which is what makes a publish idempotent on the server.
 */
export interface Outbox {
  /** How many publishes await their ack. */
  readonly size: number;
  /** The characters of their encoded frames, all together. */
  readonly chars: number;
  /** A fresh message id. */
  nextId(): string;
  /** Records a publish under `id` until `settle` is called for it. */
  add(id: string, frame: string, resolve: (position: Cursor) => void, reject: (error: Error) => void): void;
  /** Resolves (a cursor) or rejects (an error) the publish `id`; unknown ids are ignored, as an ack may come twice. */
  settle(id: string, result: Cursor | Error): void;
  /** The encoded frames of every pending publish, oldest first, to resend after a reconnect. */
  frames(): string[];
  /** Rejects every pending publish with `error`. */
  rejectAll(error: Error): void;
}

/** Creates an empty outbox. */
export function createOutbox(): Outbox {
  const pending = new Map<string, Pending>();
  // Math.random, not the injectable `random` option: two clients given the same seeded
  // sequence must still not share ids, or the server would take one's publish for the other's.
  const prefix = Math.random().toString(36).slice(2, 12);
  let counter = 0;
  let chars = 0;
  const settle = (id: string, result: Cursor | Error) => {
    const entry = pending.get(id);
    if (!entry) return;
    pending.delete(id);
    chars -= entry.frame.length;
    if (result instanceof Error) entry.reject(result);
    else entry.resolve(result);
  };
  return {
    get size() {
      return pending.size;
    },
    get chars() {
      return chars;
    },
    nextId: () => prefix + (++counter).toString(36),
    add(id, frame, resolve, reject) {
      chars += frame.length;
      pending.set(id, { frame, resolve, reject });
    },
    settle,
    frames: () => [...pending.values()].map((entry) => entry.frame),
    rejectAll(error) {
      for (const id of [...pending.keys()]) settle(id, error);
    },
  };
}
