import type { Cursor } from '../protocol/index.js';
import type { TransportName } from '../transports/transport.js';
import type { LifelineError } from './errors.js';

/**
 * Where the client is: `connecting` until the first welcome, `open` while a transport carries
 * the session, `reconnecting` after a drop (including while offline or after `pagehide`),
 * `closed` for good after `close()`.
 */
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Payload of the `state` event; emitted only when the state really changes. */
export interface StateChange {
  from: ClientState;
  to: ClientState;
  /** Why, in a few words (e.g. `welcome`, `heartbeat`, `pagehide`, `close`). */
  reason: string;
}

/** Events of a {@link Client}. */
export interface ClientEvents {
  /** The state changed. */
  state(change: StateChange): void;
  /** The transport carrying the session changed (null: none right now). */
  transport(name: TransportName | null): void;
  /** Something went wrong; the client copes (reconnects, rejects a publish) and tells you. */
  error(error: LifelineError): void;
}

/** Where a message sits in its channel's log. */
export interface MessageMeta {
  channel: string;
  epoch: string;
  seq: number;
}

/** Payload of a subscription's `gap` event: messages after `from` up to `(epoch, seq)` are lost. */
export interface GapInfo {
  channel: string;
  /** `epoch`: the channel's history was lost; `window`: the messages left the history window. */
  reason: 'epoch' | 'window';
  /** The cursor the client asked to resume after. */
  from: Cursor;
  /** Delivery goes on after this position. */
  epoch: string;
  seq: number;
}

/** Events of a {@link Subscription}. */
export interface SubscriptionEvents {
  /** One message, in order, exactly once. */
  message(data: unknown, meta: MessageMeta): void;
  /** Some messages could not be delivered (history lost or out of window); delivery goes on after it. */
  gap(info: GapInfo): void;
}

/** A channel subscription; survives reconnects and transport changes. */
export interface Subscription {
  readonly channel: string;
  /** Position of the last delivered message (or the subscription's start); undefined until known. Save it to resume after a reload with `since`. */
  readonly cursor: Cursor | undefined;
  /** Adds a listener; returns the function that removes it. */
  on<E extends keyof SubscriptionEvents>(event: E, listener: SubscriptionEvents[E]): () => void;
  /** Stops the subscription and removes its listeners. */
  unsubscribe(): void;
}

/** Options of {@link Client.subscribe}. */
export interface SubscribeOptions {
  /** Resume after this position (e.g. a `sub.cursor` saved before a reload). Without it, only new messages arrive. */
  since?: Cursor;
}

/** A Lifeline client: one logical session over whichever transport works. */
export interface Client {
  readonly state: ClientState;
  /** The transport carrying the session now, or null. */
  readonly transport: TransportName | null;
  /** Adds a listener; returns the function that removes it. */
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void;
  /** Subscribes to a channel. Subscribing again to an active channel returns the same subscription. */
  subscribe(channel: string, options?: SubscribeOptions): Subscription;
  /**
   * Publishes `data` (any JSON value) exactly once, even across drops and transport changes;
   * resolves with the message's position once the server acknowledged it.
   */
  publish(channel: string, data: unknown): Promise<Cursor>;
  /** Ends the session: rejects pending publishes with `CLOSED`, leaves no timers, sockets or listeners. */
  close(): void;
}
