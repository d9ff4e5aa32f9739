import { ErrorCode, type Cursor, type GapFrame, type MsgFrame, type SubscribedFrame } from '../protocol/index.js';
import { brokerRetryDelay, errorMessage } from './broker-failure.js';
import type { Broker, ReadResult, StoredMessage } from './brokers/broker.js';
import { shareFrame, type Connection } from './connection.js';

/** One connection's subscription to one channel. */
export class Subscription {
  /** While true, the history is being read and live messages wait in `held`. */
  resuming = true;
  /** False once the subscription was replaced or ended: late async results are dropped. */
  active = true;
  held: StoredMessage[] = [];
  /** The last position sent to the client. */
  epoch = '';
  seq = 0;
  /** Set while a failed subscribe waits to be tried again. */
  retry: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly connection: Connection,
    readonly channel: string,
  ) {}

  /**
   * Sends `message` unless the client already has it; announces an epoch change as a gap.
   * `frame` is its `msg` frame when the caller built one for every subscriber.
   */
  forward(message: StoredMessage, frame?: MsgFrame): void {
    if (message.epoch !== this.epoch) {
      this.connection.send({
        type: 'gap',
        channel: this.channel,
        epoch: message.epoch,
        seq: message.seq - 1,
        reason: 'epoch',
        from: { epoch: this.epoch, seq: this.seq },
      });
    } else if (message.seq <= this.seq) return;
    this.epoch = message.epoch;
    this.seq = message.seq;
    this.connection.send(frame ?? msgFrame(message));
  }
}

const msgFrame = (message: StoredMessage): MsgFrame => ({
  type: 'msg',
  channel: message.channel,
  epoch: message.epoch,
  seq: message.seq,
  data: message.data,
});

/** One broker subscription per channel, shared by every local subscriber. */
interface ChannelFeed {
  readonly name: string;
  readonly subscribers: Set<Subscription>;
  ready: Promise<void>;
  unsubscribe: (() => void) | undefined;
  closed: boolean;
  /** The last message fanned out, to spot seq jumps. */
  last: Cursor | undefined;
  /** Live messages held back while a hole is read from the broker. */
  repairing: StoredMessage[] | undefined;
}

/** How a subscribe is answered: the first frame and the history to replay after it. */
export interface ResumePlan {
  frame: SubscribedFrame | GapFrame;
  replay: StoredMessage[];
}

const HEAD = Number.MAX_SAFE_INTEGER;

/**
 * Decides how to answer `sub` with `since` (PROTOCOL.md `sub` and `gap`). `read` is the broker's
 * read; it is called once, or twice when the cursor is unusable and all retained history is needed.
 */
export async function planResume(
  channel: string,
  since: Cursor | undefined,
  read: (after: number) => Promise<ReadResult>,
): Promise<ResumePlan> {
  const near = await read(since ? since.seq : HEAD);
  if (!since) return { frame: { type: 'subscribed', channel, epoch: near.epoch, seq: near.head }, replay: [] };
  if (since.epoch === near.epoch && since.seq >= near.first - 1 && since.seq <= near.head) {
    return { frame: { type: 'subscribed', channel, epoch: near.epoch, seq: since.seq }, replay: near.messages };
  }
  // Unusable cursor: continue after the oldest retained message, replaying all we still hold.
  const all = since.epoch === near.epoch && since.seq < near.first ? near : await read(0);
  return {
    frame: {
      type: 'gap',
      channel,
      epoch: all.epoch,
      seq: all.first - 1,
      reason: since.epoch === all.epoch ? 'window' : 'epoch',
      from: { epoch: since.epoch, seq: since.seq },
    },
    replay: all.messages.filter((m) => m.epoch === all.epoch && m.seq >= all.first),
  };
}

/**
 * Channels, subscriptions and fan-out. Holds one broker subscription per channel, makes resume
 * race-free (the live feed is subscribed before history is read, and live messages that arrive
 * meanwhile are held and merged by seq), and repairs seq jumps in the live feed from history.
 */
export class Hub {
  private readonly feeds = new Map<string, ChannelFeed>();
  /** Each connection's subscriptions by channel; a connection without any has no entry. */
  private readonly subscriptions = new Map<Connection, Map<string, Subscription>>();

  constructor(private readonly broker: Broker) {}

  /** Number of channels with at least one local subscriber. */
  get channelCount(): number {
    return this.feeds.size;
  }

  /** Number of channels `connection` is subscribed to (a subscribe waiting to be retried counts). */
  subscriptionCount(connection: Connection): number {
    return this.subscriptions.get(connection)?.size ?? 0;
  }

  /** Whether `connection` holds a subscription to `channel` (or one waiting to be retried). */
  isSubscribed(connection: Connection, channel: string): boolean {
    return this.subscriptions.get(connection)?.has(channel) ?? false;
  }

  /** The channels `connection` is live on: subscriptions answered and not reading their history. */
  liveChannels(connection: Connection): string[] {
    return [...(this.subscriptions.get(connection)?.values() ?? [])].filter((s) => s.active && !s.resuming).map((s) => s.channel);
  }

  private subscriptionOf(connection: Connection, channel: string): Subscription | undefined {
    return this.subscriptions.get(connection)?.get(channel);
  }

  private hold(subscription: Subscription): void {
    const { connection, channel } = subscription;
    let held = this.subscriptions.get(connection);
    if (!held) {
      held = new Map();
      this.subscriptions.set(connection, held);
    }
    held.set(channel, subscription);
  }

  /** Forgets `subscription` if it is still the one its connection holds for its channel. */
  private release(subscription: Subscription): void {
    const { connection, channel } = subscription;
    const held = this.subscriptions.get(connection);
    if (held?.get(channel) !== subscription) return;
    held.delete(channel);
    if (held.size === 0) this.subscriptions.delete(connection);
  }

  /**
   * Subscribes `connection` to `channel` (replacing an existing subscription) and sends the
   * `subscribed`/`gap` frame, the replay, then live messages. `rid`, the `sub`'s request id, is
   * echoed on that frame and on a `BROKER_UNAVAILABLE` error for it.
   */
  async subscribe(connection: Connection, channel: string, since: Cursor | undefined, rid?: string, attempt = 0): Promise<void> {
    // A closed connection has been dropped already: nothing would ever release what it held.
    if (connection.closed) return;
    const previous = this.subscriptionOf(connection, channel);
    if (previous) this.remove(previous);
    const subscription = new Subscription(connection, channel);
    this.hold(subscription);
    const feed = this.feed(channel);
    feed.subscribers.add(subscription);
    try {
      await feed.ready;
      if (!subscription.active) return;
      const plan = await planResume(channel, since, (after) => this.broker.read(channel, after));
      if (!subscription.active) return;
      if (plan.replay.length > 0) connection.markReplay();
      connection.send(rid === undefined ? plan.frame : { ...plan.frame, rid });
      subscription.epoch = plan.frame.epoch;
      subscription.seq = plan.frame.seq;
      for (const message of plan.replay) subscription.forward(message);
      subscription.resuming = false;
      for (const message of subscription.held) subscription.forward(message);
      subscription.held = [];
    } catch (error) {
      if (!subscription.active) return;
      this.remove(subscription);
      // Once per outage, not per retry: the error is news, the retries are the server's business.
      if (attempt === 0)
        connection.send({
          type: 'error',
          code: ErrorCode.BROKER_UNAVAILABLE,
          message: `Subscribe to "${channel}" failed, retrying: ${errorMessage(error)}`,
          channel,
          ...(rid === undefined ? {} : { rid }),
        });
      this.retryLater(connection, channel, since, rid, attempt);
    }
  }

  /**
   * A broker outage is usually short (a Redis restart): the server keeps trying with capped,
   * jittered backoff, so the subscription completes by itself — `subscribed` or `gap` then
   * follows the error — without the client having to reconnect. An unsub or a new sub for the
   * channel, or the connection closing, stops the retries.
   */
  private retryLater(connection: Connection, channel: string, since: Cursor | undefined, rid: string | undefined, attempt: number): void {
    const waiting = new Subscription(connection, channel);
    waiting.active = false;
    this.hold(waiting);
    waiting.retry = setTimeout(() => {
      if (this.subscriptionOf(connection, channel) !== waiting || connection.closed) return;
      this.release(waiting);
      void this.subscribe(connection, channel, since, rid, attempt + 1);
    }, brokerRetryDelay(attempt));
  }

  /** Ends `connection`'s subscription to `channel`, if any. */
  unsubscribe(connection: Connection, channel: string): void {
    const subscription = this.subscriptionOf(connection, channel);
    if (subscription) this.remove(subscription);
  }

  /** Ends every subscription of a closing connection. */
  dropConnection(connection: Connection): void {
    for (const subscription of [...(this.subscriptions.get(connection)?.values() ?? [])]) this.remove(subscription);
  }

  /** Ends every broker subscription. */
  close(): void {
    for (const feed of this.feeds.values()) {
      feed.closed = true;
      feed.unsubscribe?.();
    }
    this.feeds.clear();
    for (const held of this.subscriptions.values()) for (const subscription of held.values()) clearTimeout(subscription.retry);
    this.subscriptions.clear();
  }

  private remove(subscription: Subscription): void {
    subscription.active = false;
    clearTimeout(subscription.retry);
    this.release(subscription);
    const feed = this.feeds.get(subscription.channel);
    if (!feed) return;
    feed.subscribers.delete(subscription);
    if (feed.subscribers.size === 0) {
      feed.closed = true;
      this.feeds.delete(feed.name);
      feed.unsubscribe?.();
    }
  }

  private feed(channel: string): ChannelFeed {
    const existing = this.feeds.get(channel);
    if (existing) return existing;
    const feed: ChannelFeed = {
      name: channel,
      subscribers: new Set(),
      ready: Promise.resolve(),
      unsubscribe: undefined,
      closed: false,
      last: undefined,
      repairing: undefined,
    };
    feed.ready = this.broker
      .subscribe(channel, (message) => this.onLive(feed, message))
      .then(
        (unsubscribe) => {
          if (feed.closed) unsubscribe();
          else feed.unsubscribe = unsubscribe;
        },
        (error: unknown) => {
          feed.closed = true;
          if (this.feeds.get(channel) === feed) this.feeds.delete(channel);
          throw error;
        },
      );
    this.feeds.set(channel, feed);
    return feed;
  }

  private onLive(feed: ChannelFeed, message: StoredMessage, repairAllowed = true): void {
    if (feed.closed) return;
    if (feed.repairing) {
      feed.repairing.push(message);
      return;
    }
    const { last } = feed;
    if (repairAllowed && last && message.epoch === last.epoch && message.seq > last.seq + 1) {
      this.repair(feed, message, last.seq);
    } else if (repairAllowed && last && message.epoch !== last.epoch && message.seq > 1) {
      feed.last = { epoch: message.epoch, seq: 0 };
      this.repair(feed, message, 0);
    } else {
      this.fanOut(feed, message);
    }
  }

  /** Reads the messages a live feed skipped, then releases what was held meanwhile. */
  private repair(feed: ChannelFeed, message: StoredMessage, after: number): void {
    feed.repairing = [message];
    // Whatever is still missing after one read (trimmed, or the read failed) is not read again:
    // each client sees the jump and re-subscribes with its cursor.
    const release = () => {
      const held = feed.repairing ?? [];
      feed.repairing = undefined;
      for (const next of held) this.onLive(feed, next, false);
    };
    this.broker.read(feed.name, after).then((result) => {
      for (const missing of result.messages) {
        if (missing.epoch === feed.last?.epoch && missing.seq <= message.seq) this.fanOut(feed, missing);
      }
      release();
    }, release);
  }

  private fanOut(feed: ChannelFeed, message: StoredMessage): void {
    const { last } = feed;
    if (last && last.epoch === message.epoch && message.seq <= last.seq) return;
    feed.last = { epoch: message.epoch, seq: message.seq };
    // One frame object, encoded once, for every subscriber: not one encoding per connection.
    const frame = msgFrame(message);
    if (feed.subscribers.size > 1) shareFrame(frame);
    for (const subscription of feed.subscribers) {
      if (subscription.resuming) subscription.held.push(message);
      else subscription.forward(message, frame);
    }
  }
}
