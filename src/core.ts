/**
 * `lifeline-rt/core`: the client without any transport, for builds that pick their own, e.g.
 * `createClient(url, { transports: [websocket, longpoll] })` with factories from
 * `lifeline-rt/websocket` and `lifeline-rt/longpoll`.
 */
import type { CoreClientOptions } from './client/options.js';
import { createSession } from './client/session.js';
import type { Client } from './client/types.js';

/** Connects to the Lifeline server at `url` (its base, e.g. `https://example.com/rt`) over the given transports. */
export const createClient: (url: string, options: CoreClientOptions) => Client = createSession;

export { reconnectDelay, type BackoffPolicy } from './client/backoff.js';
export { LifelineError, type ClientErrorCode, type LifelineErrorCode } from './client/errors.js';
export type { ClientOptions, CoreClientOptions } from './client/options.js';
export type {
  Client,
  ClientEvents,
  ClientState,
  GapInfo,
  MessageMeta,
  StateChange,
  SubscribeOptions,
  Subscription,
  SubscriptionEvents,
} from './client/types.js';
export type { Cursor } from './protocol/index.js';
export type { Transport, TransportClose, TransportContext, TransportFactory, TransportName } from './transports/transport.js';
