import { randomBytes } from 'node:crypto';
import type { Broker, PublishResult, ReadResult, StoredMessage } from './broker.js';
import { registerJsonPublish } from './json-publish.js';

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
   * Bytes of history kept per channel (each message counts the UTF-8 bytes of its data's JSON);
   * the oldest messages go first.
   * @default 8388608 (8 MiB)
   */
  maxHistoryBytes?: number;
  /**
   * Bytes of history kept across all channels; past it the oldest messages of the whole broker
   * go first, whatever their channel.
   * @default 67108864 (64 MiB)
   */
  maxTotalHistoryBytes?: number;
  /**
   * Channels the broker keeps. A new channel past it evicts the channel published to least
   * recently among those nobody is subscribed to (its history is lost: resuming it gets a
   * `gap`); channels with subscribers are never evicted, so they may take the count past it.
   * @default 10000
   */
  maxChannels?: number;
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
  bytes: number;
  /** Set once the entry has left its channel's history. */
  gone: boolean;
}

interface ChannelLog {
  head: number;
  /** The head it was created with: still equal, nothing was ever published to it. */
  readonly base: number;
  /**
   * The retained history, oldest first, from index `start` on. Dropping the oldest only moves
   * `start` (and clears the slot): a splice per publish would cost O(history). The dead prefix
   * is cut off once it is as long as the live part, so that costs O(1) per message on average.
   * Seqs are consecutive from `entries[start]` on: a message only ever leaves from the front.
   */
  entries: Array<Entry | undefined>;
  start: number;
  bytes: number;
  listeners: Set<(message: StoredMessage) => void>;
}

const positive = (name: string, value: number | undefined, fallback: number) => {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`memoryBroker: ${name} must be a number ≥ 0, got ${String(value)}`);
  return value;
};

/** UTF-8 bytes of `data` as JSON; a TypeError when it is not JSON, which is never stored. */
function jsonBytes(data: unknown): number {
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch {
    // A cycle, a BigInt, or a nesting too deep to encode: refused below.
  }
  if (text === undefined) throw new TypeError('memoryBroker: data must be JSON that can be encoded');
  return Buffer.byteLength(text);
}

/**
 * In-process broker: a bounded log per channel and one epoch per process lifetime,
 * so a restart makes every old cursor a `gap` instead of a silent loss. History is bounded by
 * count, age and bytes per channel and in total, and the channels by number: whatever a
 * client publishes, the broker's memory stays within its options.
 */
export function memoryBroker(options: MemoryBrokerOptions = {}): Broker {
  const historySize = positive('historySize', options.historySize, 1000);
  const historyTtl = positive('historyTtl', options.historyTtl, 300_000);
  const maxHistoryBytes = positive('maxHistoryBytes', options.maxHistoryBytes, 8_388_608);
  const maxTotalHistoryBytes = positive('maxTotalHistoryBytes', options.maxTotalHistoryBytes, 67_108_864);
  const maxChannels = positive('maxChannels', options.maxChannels, 10_000);
  const dedupTtl = positive('dedupTtl', options.dedupTtl, 120_000);
  const dedupSize = positive('dedupSize', options.dedupSize, 100_000);
  const now = options.now ?? Date.now;
  const epoch = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  // Least recently published first (a publish moves its channel to the end).
  const channels = new Map<string, ChannelLog>();
  // Insertion-ordered, so the oldest ids sit at the front and expire first.
  const seen = new Map<string, { result: PublishResult; at: number }>();
  // Every retained entry in publish order, oldest first (from `oldest` on), for the total budget;
  // entries that left their channel by other means are skipped when reached.
  let order: Entry[] = [];
  let oldest = 0;
  let totalBytes = 0;
  // The highest head of any evicted channel. A channel (re)created after an eviction starts
  // there, so no seq of this epoch is handed out twice for one channel name even though its
  // head was forgotten: an old cursor of it is behind the new history, which is a `gap`.
  let evictedHead = 0;
  // The channel at the end of `channels`' order, or undefined when unsure.
  let lastPublished: string | undefined;

  // Expired history goes even from channels nobody touches any more.
  const sweeper = setInterval(
    () => {
      const t = now();
      for (const entry of channels.values()) trim(entry, t);
      compactOrder();
    },
    Math.max(1000, Math.min(historyTtl, 60_000)),
  );
  sweeper.unref?.();

  const retained = (log: ChannelLog) => log.entries.length - log.start;

  /** Drops the `count` oldest messages of `log`. */
  const drop = (log: ChannelLog, count: number) => {
    const { entries } = log;
    const end = log.start + count;
    for (let i = log.start; i < end; i++) {
      const gone = entries[i]!;
      entries[i] = undefined;
      gone.gone = true;
      log.bytes -= gone.bytes;
      totalBytes -= gone.bytes;
    }
    log.start = end;
    if (end === entries.length) {
      log.entries = [];
      log.start = 0;
    } else if (end >= 1024 && end * 2 >= entries.length) {
      log.entries = entries.slice(end);
      log.start = 0;
    }
  };

  const compactOrder = () => {
    while (oldest < order.length && order[oldest]!.gone) oldest++;
    if (oldest > 1024 && oldest * 2 > order.length) {
      order = order.slice(oldest);
      oldest = 0;
    }
  };

  const evictIdleChannel = (): boolean => {
    for (const [name, log] of channels) {
      if (log.listeners.size > 0) continue;
      drop(log, retained(log));
      evictedHead = Math.max(evictedHead, log.head);
      channels.delete(name);
      lastPublished = undefined;
      return true;
    }
    return false;
  };

  const log = (channel: string): ChannelLog => {
    let entry = channels.get(channel);
    if (!entry) {
      while (channels.size >= maxChannels && evictIdleChannel()) compactOrder();
      entry = { head: evictedHead, base: evictedHead, entries: [], start: 0, bytes: 0, listeners: new Set() };
      channels.set(channel, entry);
      lastPublished = undefined;
    }
    return entry;
  };

  const trim = (entry: ChannelLog, t: number) => {
    const { entries, start } = entry;
    const length = retained(entry);
    let count = Math.max(0, length - historySize);
    let bytes = entry.bytes;
    for (let i = 0; i < count; i++) bytes -= entries[start + i]!.bytes;
    while (count < length && (bytes > maxHistoryBytes || t - entries[start + count]!.at > historyTtl)) {
      bytes -= entries[start + count]!.bytes;
      count++;
    }
    if (count) drop(entry, count);
  };

  /** Drops the oldest messages of the whole broker until the total fits. */
  const trimTotal = () => {
    while (totalBytes > maxTotalHistoryBytes && oldest < order.length) {
      const next = order[oldest++]!;
      if (next.gone) continue;
      // Publish order matches each channel's order, so it is its channel's oldest entry.
      const owner = channels.get(next.channel);
      if (owner) drop(owner, 1);
    }
    compactOrder();
  };

  const forgetOldIds = (t: number) => {
    for (const [key, value] of seen) {
      if (seen.size <= dedupSize && t - value.at <= dedupTtl) break;
      seen.delete(key);
    }
  };

  const dedupKey = (channel: string, id: string | undefined) => (id === undefined ? undefined : `${channel}\u0000${id}`);

  /** The result of the earlier publish with this key, when it is remembered. */
  const recall = (key: string | undefined, t: number): PublishResult | undefined => {
    forgetOldIds(t);
    const known = key === undefined ? undefined : seen.get(key);
    return known && { ...known.result, duplicate: true };
  };

  /** Appends `data` (`bytes` bytes as JSON) to `channel` and tells its listeners. */
  const append = (channel: string, data: unknown, bytes: number, key: string | undefined, t: number): PublishResult => {
    const entry = log(channel);
    // Most recently published last: the eviction order (already so when it was the last one).
    if (channel !== lastPublished) {
      channels.delete(channel);
      channels.set(channel, entry);
      lastPublished = channel;
    }
    const message: Entry = { channel, epoch, seq: ++entry.head, data, at: t, bytes, gone: false };
    entry.entries.push(message);
    entry.bytes += bytes;
    totalBytes += bytes;
    order.push(message);
    trim(entry, t);
    trimTotal();
    const result = { epoch, seq: message.seq, duplicate: false };
    if (key !== undefined) seen.set(key, { result, at: t });
    const stored: StoredMessage = { channel, epoch, seq: message.seq, data };
    for (const listener of entry.listeners) listener(stored);
    return result;
  };

  const publish: Broker['publish'] = async (channel, data, id) => {
    const t = now();
    const key = dedupKey(channel, id);
    return recall(key, t) ?? append(channel, data, jsonBytes(data), key, t);
  };
  // The server's publish has the JSON text already: decoding it makes the stored copy and its
  // length is the byte count, so the data is never encoded twice.
  registerJsonPublish(publish, async (channel, json, id) => {
    const t = now();
    const key = dedupKey(channel, id);
    return recall(key, t) ?? append(channel, JSON.parse(json), Buffer.byteLength(json), key, t);
  });

  return {
    publish,

    async read(channel, after): Promise<ReadResult> {
      const entry = channels.get(channel);
      // An unknown channel is an empty log; reading it must not create it.
      if (!entry) return { epoch, head: evictedHead, first: evictedHead + 1, messages: [] };
      trim(entry, now());
      const { entries, start } = entry;
      const first = entries[start]?.seq ?? entry.head + 1;
      const messages: StoredMessage[] = [];
      // Seqs are consecutive, so the first one after `after` is found by arithmetic.
      for (let i = start + Math.max(0, after - first + 1); i < entries.length; i++) {
        const { channel: c, epoch: e, seq, data } = entries[i]!;
        messages.push({ channel: c, epoch: e, seq, data });
      }
      return { epoch, head: entry.head, first, messages };
    },

    async subscribe(channel, listener) {
      const entry = log(channel);
      entry.listeners.add(listener);
      return () => {
        entry.listeners.delete(listener);
        // A channel only ever subscribed to, never published to, has nothing to remember.
        if (!entry.listeners.size && entry.head === entry.base && channels.get(channel) === entry) {
          channels.delete(channel);
          lastPublished = undefined;
        }
      };
    },

    health: () => ({ ok: true }),

    async close() {
      clearInterval(sweeper);
      for (const entry of channels.values()) entry.listeners.clear();
    },
  };
}
