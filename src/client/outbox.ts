import type { Cursor } from '../protocol/index.js';
import { LifelineError } from './errors.js';
import { checkChannel, fail } from './options.js';

/** One publish awaiting its ack: the encoded `pub` frame (resent as is, so the server can recognise the id) and how to settle it. */
type Entry = [text: string, resolve: (position: Cursor) => void, reject: (error: Error) => void];

/** Publishes awaiting their ack, by message id, oldest first. */
export interface Outbox {
  /** Queues a publish; `send` gets its frame now if a connection is up. */
  add(channel: string, data: unknown, send: (text: string) => void): Promise<Cursor>;
  /** Encoded frames of every unacknowledged publish, to resend after a (re)connect. */
  texts(): string[];
  /** Settles the publish with `id` (unknown ids are ignored: an ack may come twice). */
  settle(id: string, result: Cursor | LifelineError): void;
  /** Rejects everything still waiting. */
  clear(error: LifelineError): void;
}

/**
 * Creates the bounded outbox behind `publish`. Ids are a random prefix and a counter: unique
 * per client, stable across resends, which is what makes a publish idempotent on the server.
 */
export function createOutbox(size: number, random: () => number): Outbox {
  const entries = new Map<string, Entry>();
  const prefix = random().toString(36).slice(2, 10);
  let counter = 0;
  const settle = (id: string, result: Cursor | LifelineError) => {
    const entry = entries.get(id);
    entries.delete(id);
    // An Error rejects (slot 2), a cursor resolves (slot 1).
    entry?.[result instanceof Error ? 2 : 1](result as Cursor & Error);
  };
  return {
    add: (channel, data, send) =>
      new Promise((resolve, reject) => {
        // Throwing inside the executor rejects the promise: publish never throws synchronously.
        if (entries.size >= size) throw new LifelineError('OUTBOX_FULL', `OUTBOX_FULL ${size}`);
        checkChannel(channel);
        if (data === undefined) fail('data', data);
        const id = prefix + (++counter).toString(36);
        const text = JSON.stringify({ type: 'pub', id, channel, data });
        entries.set(id, [text, resolve, reject]);
        send(text);
      }),
    texts: () => [...entries.values()].map((entry) => entry[0]),
    settle,
    clear: (error) => entries.forEach((_, id) => settle(id, error)),
  };
}
