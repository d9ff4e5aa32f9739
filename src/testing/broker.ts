import { memoryBroker } from '../server/brokers/memory.js';
import type { Broker, BrokerHealth, PublishResult, ReadResult, StoredMessage } from '../server/brokers/broker.js';

/** History settings handed to every memory broker the test broker makes. */
export interface HistorySettings {
  historySize?: number;
  historyTtl?: number;
  dedupTtl?: number;
}

type Listener = (message: StoredMessage) => void;

/** The server's subscribers of one channel and the memory broker they are attached to. */
interface Feed {
  readonly listeners: Set<Listener>;
  /** The broker this feed listens to now, and how to stop listening to it. */
  source: Broker | undefined;
  stop: Promise<() => void> | undefined;
}

/**
 * The test server's broker: memory brokers that can forget a channel's history, and a record of
 * what clients published.
 *
 * Forgetting gives the channel a fresh memory broker, so it gets a new epoch and seqs start at 1
 * again: what a memory broker's restart or a Redis that lost its data does to a channel. The
 * server's live subscribers are moved to the new log, and the hub turns the epoch change into a
 * `gap` (reason `epoch`) with the channel's next message; a client that resumes gets it at once.
 */
export class TestBroker implements Broker {
  /** The broker of every channel that was not forgotten on its own. */
  private shared: Broker;
  /** Channels forgotten one at a time, each with its own fresh broker. */
  private readonly own = new Map<string, Broker>();
  private readonly feeds = new Map<string, Feed>();
  /** Publish ids of the kit's own publishes, which are not clients' (see {@link ownPublish}). */
  private readonly ownIds = new Set<string>();
  private nextOwnId = 0;

  constructor(
    private readonly settings: HistorySettings,
    /** Hears every publish a client (or the HTTP publish API) made, once, in log order. */
    private readonly onPublished: (channel: string, data: unknown) => void,
  ) {
    this.shared = memoryBroker(settings);
  }

  /** An id for a publish the kit itself makes: it is stored like any other but not recorded as a client's. */
  ownPublish(): string {
    const id = `lifeline-testing-${++this.nextOwnId}`;
    this.ownIds.add(id);
    return id;
  }

  /** Gives `channel` (every channel when omitted) a new, empty history with a new epoch. */
  forget(channel?: string): void {
    const retired: Broker[] = [];
    if (channel === undefined) {
      retired.push(this.shared, ...this.own.values());
      this.own.clear();
      this.shared = memoryBroker(this.settings);
    } else {
      const previous = this.own.get(channel);
      if (previous) retired.push(previous);
      this.own.set(channel, memoryBroker(this.settings));
    }
    for (const [name, feed] of this.feeds) if (channel === undefined || name === channel) this.attach(name, feed);
    for (const broker of retired) void broker.close();
  }

  async publish(channel: string, data: unknown, id?: string): Promise<PublishResult> {
    const result = await this.brokerOf(channel).publish(channel, data, id);
    const own = id !== undefined && this.ownIds.delete(id);
    if (!result.duplicate && !own) this.onPublished(channel, data);
    return result;
  }

  read(channel: string, after: number): Promise<ReadResult> {
    return this.brokerOf(channel).read(channel, after);
  }

  async subscribe(channel: string, listener: Listener): Promise<() => void> {
    let feed = this.feeds.get(channel);
    if (!feed) {
      feed = { listeners: new Set(), source: undefined, stop: undefined };
      this.feeds.set(channel, feed);
    }
    feed.listeners.add(listener);
    if (feed.source !== this.brokerOf(channel)) this.attach(channel, feed);
    await feed.stop;
    const subscribed = feed;
    return () => {
      subscribed.listeners.delete(listener);
      if (subscribed.listeners.size > 0 || this.feeds.get(channel) !== subscribed) return;
      this.feeds.delete(channel);
      void subscribed.stop?.then((stop) => stop());
    };
  }

  health(): BrokerHealth {
    return { ok: true };
  }

  async close(): Promise<void> {
    this.feeds.clear();
    await Promise.all([this.shared, ...this.own.values()].map((broker) => broker.close()));
  }

  private brokerOf(channel: string): Broker {
    return this.own.get(channel) ?? this.shared;
  }

  /**
   * Points a feed at its channel's current broker. Messages from a broker the feed has left are
   * ignored, so nothing from a forgotten history reaches a subscriber after the switch.
   */
  private attach(channel: string, feed: Feed): void {
    const source = this.brokerOf(channel);
    const previous = feed.stop;
    feed.source = source;
    feed.stop = source.subscribe(channel, (message) => {
      if (feed.source !== source) return;
      for (const listener of feed.listeners) listener(message);
    });
    void previous?.then((stop) => stop());
  }
}
