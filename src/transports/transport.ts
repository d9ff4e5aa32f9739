import type { NegotiationFactory } from '../client/negotiation.js';

/** Names of the built-in transports, in the default preference order. */
export type TransportName = 'websocket' | 'sse' | 'longpoll';

/** Why a transport ended. `code` uses WebSocket close code numbers (1006: dropped without a close frame). */
export interface TransportClose {
  code: number;
  reason: string;
  /**
   * The server's error code when it refused the connection in words the client can read (an
   * HTTP error answer's `{ error: { code } }`, e.g. `UNAUTHORIZED`): the session reports it as
   * an error of that code. Absent when the transport only knows that it failed.
   */
  error?: string;
}

/**
 * What the session hands a transport when it opens one. The transport reports through the
 * callbacks only; after `onClose` it must call nothing else, and after the session calls
 * `close()` it must call nothing at all.
 */
export interface TransportContext {
  /** Server base URL, e.g. `https://example.com/rt` (no trailing slash). */
  url: string;
  /** Token for this connect attempt, if any. Never put it in a URL. */
  token: string | undefined;
  /** WebSocket constructor to use. */
  WebSocket: typeof globalThis.WebSocket | undefined;
  /** EventSource constructor to use. */
  EventSource: typeof globalThis.EventSource | undefined;
  /** fetch implementation to use. */
  fetch: typeof globalThis.fetch | undefined;
  /**
   * The client's `maxMessageSize` (characters): the SSE and long-polling transports join
   * queued wire messages into one `/send` of at most this size.
   */
  maxMessageSize: number;
  /** Called with each wire message (a JSON text holding an array of frames) as received. */
  onMessage(text: string): void;
  /** Called once when the transport is gone, whatever the reason. */
  onClose(info: TransportClose): void;
}

/** A live (or opening) connection over one transport. */
export interface Transport {
  /**
   * Sends one wire message (a JSON text holding an array of frames). The session sends one
   * frame per message, which lets the SSE and long-polling transports join queued messages
   * into one `/send` of at most 100 frames.
   */
  send(text: string): void;
  /** Ends the connection without calling `onClose`. Safe to call more than once. */
  close(): void;
}

/**
 * Opens a transport. Import a factory from `lifeline-rt/websocket`, `lifeline-rt/sse` or
 * `lifeline-rt/longpoll` and pass it in `transports` to build with only what you need.
 */
export interface TransportFactory {
  /** The transport's name, as reported by `client.transport`. */
  readonly transportName: TransportName;
  /**
   * The negotiation policy (remembered transport first, flap demotion, upward probing), which
   * only matters beside a fallback: the SSE and long-polling factories carry it, so a
   * WebSocket-only build leaves it out. A client uses the first it finds among its transports;
   * without any, it tries the transports in the order given.
   */
  readonly negotiation?: NegotiationFactory;
  (context: TransportContext): Transport;
}
