/** One message as stored in a channel's log. */
export interface StoredMessage {
  channel: string;
  epoch: string;
  seq: number;
  data: unknown;
}

/** What a publish produced. `duplicate` is true when `id` was seen before and nothing was published. */
export interface PublishResult {
  epoch: string;
  seq: number;
  duplicate: boolean;
}

/** A slice of a channel's retained history. */
export interface ReadResult {
  /** The channel's current epoch. */
  epoch: string;
  /** Seq of the newest message ever published in this epoch (0: none). */
  head: number;
  /** Seq of the oldest message still retained (head + 1 when nothing is retained). */
  first: number;
  /** Retained messages with seq greater than the `after` asked for, oldest first. */
  messages: StoredMessage[];
}

/** Health as the broker sees it; `/health` reports it. */
export interface BrokerHealth {
  ok: boolean;
  /** Why it is not ok, when it is not. */
  detail?: string;
}

/**
 * Point-to-point messages between the nodes of one deployment, so that any node can serve any
 * request of an SSE or long-poll connection by relaying it to the node that holds it. Messages
 * from one node to another arrive in the order they were sent, at most once.
 */
export interface NodeBus {
  /** Sends `message` to node `node`; resolves to false when no such node is listening (it is gone). */
  send(node: string, message: string): Promise<boolean>;
  /** Delivers messages sent to `node` to `handler` once listening is active; the returned function stops it. */
  listen(node: string, handler: (message: string) => void): Promise<() => void>;
}

/**
 * Storage and fan-out behind the server's transports. Transports never talk to a broker
 * directly: the hub does. A broker assigns gapless seqs per channel (from 1 within an epoch),
 * keeps bounded history, remembers publish ids for dedup, and tells live subscribers about
 * every message — from this node or, for a shared broker, any node.
 */
export interface Broker {
  /** Appends `data` to `channel`. A repeated `id` within the dedup window returns the original result. */
  publish(channel: string, data: unknown, id?: string): Promise<PublishResult>;
  /** Reads retained messages with seq greater than `after`. */
  read(channel: string, after: number): Promise<ReadResult>;
  /**
   * Calls `listener` for every message published to `channel` from now on, in seq order.
   * Resolves once the subscription is active; the returned function ends it.
   */
  subscribe(channel: string, listener: (message: StoredMessage) => void): Promise<() => void>;
  /** Current health. */
  health(): BrokerHealth;
  /** How nodes sharing this broker reach each other; absent for a single-node broker. */
  readonly bus?: NodeBus;
  /** Releases timers and connections. */
  close(): Promise<void>;
}
