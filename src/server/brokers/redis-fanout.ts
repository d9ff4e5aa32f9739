import type { StoredMessage } from './broker.js';
import { parseLive, type NoncedMessage, type TrackedRead } from './redis-scripts.js';

type Listener = (message: StoredMessage) => void;

/** What the fan-out needs from the broker around it. */
export interface FanoutDeps {
  /** Subscribes the pub/sub connection to these Redis channels (resolves once Redis confirmed). */
  listen(names: string[]): Promise<unknown>;
  /** Unsubscribes the pub/sub connection from one Redis channel. */
  unlisten(name: string): Promise<unknown>;
  /**
   * Reads a channel after `after` (`undefined`: the head only), and the nonce of the entry
   * at seq `check` when asked.
   */
  read(channel: string, after: number | undefined, check?: number): Promise<TrackedRead>;
  /** Forgets a channel's history if it is still in `epoch`, so the next call starts a new one. */
  reset(channel: string, epoch: string): Promise<unknown>;
  /** The Redis pub/sub channel that carries a Lifeline channel's live messages. */
  liveName(channel: string): string;
}

/** One Lifeline channel this node has listeners for. */
interface Feed {
  channel: string;
  listeners: Set<Listener>;
  /**
   * Last message handed to listeners (its nonce when known); undefined until the starting
   * head is known.
   */
  last?: { epoch: string; seq: number; nonce?: string };
  /** Live messages waiting for their turn (during setup and catch-up). */
  pending: NoncedMessage[];
  catchingUp: boolean;
  /** A catch-up was asked for while one was running, or the last one failed. */
  stale: boolean;
  ready: Promise<void>;
}

/**
 * Per-node fan-out over Redis pub/sub with repair. Pub/sub alone loses whatever is published
 * while this node's subscriber connection is down, so every feed remembers the last seq it
 * delivered and fills any hole (a seq jump, an epoch change, a reconnect) from the stream,
 * holding live messages back meanwhile. Listeners see each message once, in seq order; what
 * the stream no longer holds is skipped, which the hub and client see as a seq jump or an
 * epoch change and turn into a resume or a `gap`.
 *
 * Redis can also roll back: a crash with `appendfsync everysec`, or a failover to a replica
 * that had not caught up, forgets the last writes, and their seqs are then handed out again
 * for other data in the same epoch. Listeners would drop those as repeats: a silent loss. So a
 * catch-up checks that the entry at the last delivered seq still carries the nonce delivered;
 * if not (or the head went backwards), the channel is reset to a new epoch, which clients see
 * as a `gap`.
 */
export function createFanout(deps: FanoutDeps) {
  const feeds = new Map<string, Feed>();
  const byLiveName = new Map<string, Feed>();

  const deliver = (feed: Feed, { nonce, ...message }: NoncedMessage) => {
    feed.last = { epoch: message.epoch, seq: message.seq, nonce };
    for (const listener of [...feed.listeners]) {
      try {
        listener(message);
      } catch {
        // A throwing listener must not starve the others or stall the feed.
      }
    }
  };

  const pump = (feed: Feed) => {
    while (feed.last && !feed.catchingUp && feed.pending.length > 0) {
      const message = feed.pending[0]!;
      const { last } = feed;
      // The same seq with another nonce: Redis rolled back and reused it.
      const sameEpoch = message.epoch === last.epoch;
      const reused = sameEpoch && message.seq === last.seq && last.nonce !== undefined && message.nonce !== last.nonce;
      if (reused) void catchUp(feed);
      else if (sameEpoch && message.seq <= last.seq) feed.pending.shift();
      else if (sameEpoch && message.seq === last.seq + 1) deliver(feed, feed.pending.shift()!);
      else void catchUp(feed);
    }
  };

  async function catchUp(feed: Feed): Promise<void> {
    if (!feed.last || feed.catchingUp) {
      feed.stale = true;
      return;
    }
    feed.catchingUp = true;
    feed.stale = false;
    const last = feed.last;
    try {
      let result = await deps.read(feed.channel, last.seq, last.nonce === undefined ? undefined : last.seq);
      const rolledBack =
        result.epoch === last.epoch && (result.head < last.seq || (result.checked !== undefined && result.checked !== last.nonce));
      if (rolledBack) await deps.reset(feed.channel, last.epoch);
      // A new epoch (Redis lost its data, or was just reset) is a new log: everything it holds is unseen.
      if (rolledBack || (result.epoch !== last.epoch && last.seq > 0)) result = await deps.read(feed.channel, 0);
      if (feeds.get(feed.channel) !== feed) return;
      const sameEpoch = result.epoch === last.epoch;
      for (const message of result.messages) {
        if (!sameEpoch || message.seq > feed.last.seq) deliver(feed, message);
      }
      // Anything up to head that the stream no longer holds is gone: skip it rather than
      // waiting for it forever; the next message shows the jump downstream.
      if (feed.last.epoch !== result.epoch || result.head > feed.last.seq) feed.last = { epoch: result.epoch, seq: result.head };
      // What is still held at or below the new position is accounted for (or was reused by a
      // rollback and is gone with it): only later messages may follow.
      const at = feed.last;
      feed.pending = feed.pending.filter((m) => m.epoch === at.epoch && m.seq > at.seq);
    } catch {
      // Redis is unreachable; the broker calls resync() when it is back.
      feed.stale = true;
      return;
    } finally {
      feed.catchingUp = false;
    }
    if (feed.stale) void catchUp(feed);
    else pump(feed);
  }

  const setUp = async (feed: Feed) => {
    const name = deps.liveName(feed.channel);
    byLiveName.set(name, feed);
    await deps.listen([name]);
    // Read the head only after Redis confirmed the SUBSCRIBE: every seq above it arrives live.
    const head = await deps.read(feed.channel, undefined);
    if (!feed.last) feed.last = { epoch: head.epoch, seq: head.head };
    pump(feed);
  };

  const drop = (feed: Feed) => {
    if (feeds.get(feed.channel) !== feed) return;
    feeds.delete(feed.channel);
    const name = deps.liveName(feed.channel);
    byLiveName.delete(name);
    // Failure here only means the connection is down, which unsubscribes by itself.
    deps.unlisten(name).catch(() => undefined);
  };

  return {
    /** Adds a listener; resolves once messages after the current head will reach it. */
    async subscribe(channel: string, listener: Listener): Promise<() => void> {
      let feed = feeds.get(channel);
      if (!feed) {
        const created: Feed = { channel, listeners: new Set(), pending: [], catchingUp: false, stale: false, ready: Promise.resolve() };
        feeds.set(channel, created);
        created.ready = setUp(created);
        feed = created;
      }
      const own = feed;
      own.listeners.add(listener);
      try {
        await own.ready;
      } catch (error) {
        own.listeners.delete(listener);
        drop(own);
        throw error;
      }
      return () => {
        own.listeners.delete(listener);
        if (own.listeners.size === 0) drop(own);
      };
    },

    /** Handles one pub/sub message from Redis. */
    onMessage(liveName: string, payload: string) {
      const feed = byLiveName.get(liveName);
      if (!feed) return;
      const message = parseLive(feed.channel, payload);
      if (!message) return;
      feed.pending.push(message);
      pump(feed);
    },

    /**
     * After a reconnect: subscribe again (a fresh connection has no subscriptions) unless the
     * connection did so itself (`listenAgain` false), then fill in whatever was published
     * while this node was not listening.
     */
    async resync(listenAgain = true) {
      const all = [...feeds.values()];
      if (all.length === 0) return;
      try {
        if (listenAgain) await deps.listen(all.map((feed) => deps.liveName(feed.channel)));
      } catch {
        return;
      }
      // Feeds still setting up read their head after this and need no catch-up.
      for (const feed of all) if (feed.last) void catchUp(feed);
    },

    /** Forgets every listener. */
    clear() {
      feeds.clear();
      byLiveName.clear();
    },
  };
}
