import type { Cursor } from './cursor.js';
import type { ErrorCode } from './codes.js';

/** Protocol version spoken by this build; sent in `hello` and `welcome`. */
export const PROTOCOL_VERSION = 1;

// ---- client → server -------------------------------------------------------

/** First frame on a WebSocket: protocol version and an optional token. */
export interface HelloFrame {
  type: 'hello';
  v: number;
  token?: string;
}
/** Subscribe to a channel, optionally resuming after a cursor. */
export interface SubFrame {
  type: 'sub';
  channel: string;
  since?: Cursor;
  /**
   * Request id (1–64 characters), chosen by the client: the answers to this `sub` (its
   * `subscribed` or `gap`, or its `error`) carry it back, so they can be told from the answers
   * to an earlier `sub` of the same channel. Optional; older servers ignore it.
   */
  rid?: string;
}
/** Stop receiving a channel. */
export interface UnsubFrame {
  type: 'unsub';
  channel: string;
}
/** Publish `data` to `channel`; `id` is the client-made message id used for dedup. */
export interface PubFrame {
  type: 'pub';
  id: string;
  channel: string;
  data: unknown;
}

/**
 * The client is leaving (SSE and long polling, on `close()`): the server closes the connection
 * at once, where it would otherwise wait for its stream or polls to time out.
 */
export interface ClientByeFrame {
  type: 'bye';
}

// ---- server → client -------------------------------------------------------

/** The server accepted the connection; the transport is proven to work. */
export interface WelcomeFrame {
  type: 'welcome';
  v: number;
  /** Connection id; SSE and long polling quote it on `send` and `poll`. */
  cid: string;
  /** Server heartbeat interval in ms: a frame arrives at least this often. */
  heartbeat: number;
  /** Server clock (ms since the Unix epoch) when the welcome was sent. */
  time: number;
}
/** A subscription is live; messages after `(epoch, seq)` follow. */
export interface SubscribedFrame {
  type: 'subscribed';
  channel: string;
  epoch: string;
  seq: number;
  /** The `rid` of the `sub` this answers, when it had one. */
  rid?: string;
}
/**
 * The requested cursor could not be honoured (history lost or out of window).
 * Messages after `(epoch, seq)` follow; `from` is the cursor that was asked for.
 */
export interface GapFrame {
  type: 'gap';
  channel: string;
  epoch: string;
  seq: number;
  reason: 'epoch' | 'window';
  from: Cursor;
  /** The `rid` of the `sub` this answers, when it had one (a gap seen live has none). */
  rid?: string;
}
/** One message of a channel's log. */
export interface MsgFrame {
  type: 'msg';
  channel: string;
  epoch: string;
  seq: number;
  data: unknown;
}
/** A publish was accepted (or was a repeat of an accepted one) at `(epoch, seq)`. */
export interface AckFrame {
  type: 'ack';
  id: string;
  channel: string;
  epoch: string;
  seq: number;
}
/** Something the peer sent was refused. `id` names a publish, `channel` a subscribe. */
export interface ErrorFrame {
  type: 'error';
  code: ErrorCode;
  message: string;
  id?: string;
  channel?: string;
  /** The `rid` of the `sub` this refuses, when it had one. */
  rid?: string;
}
/** The server is ending this connection; `code` uses the WebSocket close code numbers. */
export interface ByeFrame {
  type: 'bye';
  code: number;
  reason: string;
  /**
   * With 1012 (restart): the window in ms over which the client should spread its reconnect
   * (wait a uniformly random time in [0, spread) first), so a node's clients don't all return
   * at once. Older servers don't send it.
   */
  spread?: number;
}

// ---- both ways -------------------------------------------------------------

/** Liveness probe; on WebSocket the receiver answers with `pong`. */
export interface PingFrame {
  type: 'ping';
}
/** Answer to `ping`. */
export interface PongFrame {
  type: 'pong';
}

/** Frames a client sends. */
export type ClientFrame = HelloFrame | SubFrame | UnsubFrame | PubFrame | ClientByeFrame | PingFrame | PongFrame;
/** Frames a server sends. */
export type ServerFrame = WelcomeFrame | SubscribedFrame | GapFrame | MsgFrame | AckFrame | ErrorFrame | ByeFrame | PingFrame | PongFrame;
/** Any protocol frame. */
export type Frame = ClientFrame | ServerFrame;
