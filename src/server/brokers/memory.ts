import { randomBytes } from 'node:crypto';
import type { Broker, PublishResult, ReadResult, StoredMessage } from './broker.js';

/** Options of {@link memoryBroker}. */
export interface MemoryBrokerOptions {
  /**
   * Messages kept per channel for replay.
   * @default 1000
   */
  historySize?: number;
  /**
   * How long (ms) a message stays replayable.
   * @default 300000 (5 minutes)
   */
  historyTtl?: number;
  /**
   * How long (ms) a publish id is remembered for dedup.
   * @default 120000 (2 minutes)
   */
  dedupTtl?: number;
  /**
   * Most publish ids remembered at once (oldest forgotten first).
   * @default 100000
   */
  dedupSize?: number;
  /**
   * Clock, injectable for tests.
   * @default Date.now
   */
  now?: () => number;
}

interface Entry extends StoredMessage {
  at: number;
}

interface ChannelLog {
  head: number;
  entries: Entry[];
  listeners: Set<(message: StoredMessage) => void>;
}

const positive = (name: string, value: number | undefined, fallback: number) => {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`memoryBroker: ${name} must be a number ≥ 0, got ${String(value)}`);
  return value;
};

/**
 * In-process broker: a bounded log per channel and one epoch per process lifetime,
 * so a restart makes every old cursor a `gap` instead of a silent loss.
 */
export function memoryBroker(options: MemoryBrokerOptions = {}): Broker {
  const historySize = positive('historySize', options.historySize, 1000);
  const historyTtl = positive('historyTtl', options.historyTtl, 300_000);
  const dedupTtl = positive('dedupTtl', options.dedupTtl, 120_000);
  const dedupSize = positive('dedupSize', options.dedupSize, 100_000);
  const now = options.now ?? Date.now;
  const epoch = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const channels = new Map<string, ChannelLog>();
  // Insertion-ordered, so the oldest ids sit at the front and expire first.
  const seen = new Map<string, { result: PublishResult; at: number }>();

  // Expired history goes even from channels nobody touches any more. A channel that was ever
  // published to keeps its head for the broker's lifetime: forgetting it would hand out its
  // seqs again within the same epoch.
  const sweeper = setInterval(
    () => {
      const t = now();
      for (const entry of channels.values()) trim(entry, t);
    },
    Math.max(1000, Math.min(historyTtl, 60_000)),
  );
  sweeper.unref?.();

  const log = (channel: string): ChannelLog => {
    let entry = channels.get(channel);
    if (!entry) {
      entry = { head: 0, entries: [], listeners: new Set() };
      channels.set(channel, entry);
    }
    return entry;
  };

  const trim = (entry: ChannelLog, t: number) => {
    let drop = Math.max(0, entry.entries.length - historySize);
    while (drop < entry.entries.length && t - entry.entries[drop]!.at > historyTtl) drop++;
    if (drop) entry.entries.splice(0, drop);
  };

  const forgetOldIds = (t: number) => {
    for (const [key, value] of seen) {
      if (seen.size <= dedupSize && t - value.at <= dedupTtl) break;
      seen.delete(key);
    }
  };

  return {
    async publish(channel, data, id) {
      const t = now();
      forgetOldIds(t);
      const key = id === undefined ? undefined : `${channel}\u0000${id}`;
      const known = key === undefined ? undefined : seen.get(key);
      if (known) return { ...known.result, duplicate: true };
      const entry = log(channel);
      const message: Entry = { channel, epoch, seq: ++entry.head, data, at: t };
      entry.entries.push(message);
      trim(entry, t);
      const result = { epoch, seq: message.seq, duplicate: false };
      if (key !== undefined) seen.set(key, { result, at: t });
      const stored: StoredMessage = { channel, epoch, seq: message.seq, data };
      for (const listener of entry.listeners) listener(stored);
      return result;
    },

    async read(channel, after): Promise<ReadResult> {
      const entry = channels.get(channel);
      // An unknown channel is an empty log; reading it must not create it.
      if (!entry) return { epoch, head: 0, first: 1, messages: [] };
      trim(entry, now());
      const messages = entry.entries
        .filter((m) => m.seq > after)
        .map(({ channel: c, epoch: e, seq, data }) => ({ channel: c, epoch: e, seq, data }));
      return { epoch, head: entry.head, first: entry.entries[0]?.seq ?? entry.head + 1, messages };
    },

    async subscribe(channel, listener) {
      const entry = log(channel);
      entry.listeners.add(listener);
      return () => {
        entry.listeners.delete(listener);
        // A channel only ever subscribed to, never published to, has nothing to remember.
        if (!entry.listeners.size && !entry.head && channels.get(channel) === entry) channels.delete(channel);
      };
    },

    health: () => ({ ok: true }),

    async close() {
      clearInterval(sweeper);
      for (const entry of channels.values()) entry.listeners.clear();
    },
  };
}
