/**
 * `lifeline-rt`: the client with all three transports, chosen by name. For smaller builds import
 * `lifeline-rt/core` and only the transports you need.
 */
import type { ClientOptions } from './client/options.js';
import { createSession } from './client/session.js';
import type { Client } from './client/types.js';
import { longpoll } from './transports/long-polling.js';
import { sse } from './transports/sse.js';
import { websocket } from './transports/websocket.js';

/**
 * Connects to the Lifeline server at `url` (its base, e.g. `https://example.com/rt`), trying
 * WebSocket, then SSE, then long polling unless `options.transports` says otherwise.
 */
export const createClient = (url: string, options?: ClientOptions): Client => createSession(url, options, { websocket, sse, longpoll });

export { LifelineError, reconnectDelay } from './core.js';
export type * from './core.js';
