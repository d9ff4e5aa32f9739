import type { TransportFactory, TransportName } from '../transports/transport.js';

/** Options of `createClient`. Every field is optional; the defaults suit a browser page. */
export interface ClientOptions {
  /**
   * Transports in order of preference: names (only with the `lifeline` entry, which bundles all
   * three) or factories from `lifeline/websocket`, `lifeline/sse`, `lifeline/longpoll`.
   * @default ['websocket', 'sse', 'longpoll'] (required with `lifeline/core`)
   */
  transports?: readonly (TransportName | TransportFactory)[];
  /** Reconnection backoff: full jitter between 0 and min(maxDelay, initialDelay × 2^attempt). */
  reconnect?: {
    /** Upper bound of the first retry's delay, in ms. @default 500 */
    initialDelay?: number;
    /** Cap on the retry delay, in ms. @default 10000 */
    maxDelay?: number;
    /**
     * A connection that stayed up this long (ms) resets the attempt count; one that died sooner
     * counts towards flap demotion. @default 5000
     */
    stableAfter?: number;
  };
  /** A connect attempt fails when no transport delivered the server's welcome within this many ms. @default 10000 */
  connectTimeout?: number;
  /** A transport that neither welcomes nor fails within this many ms gets the next one started beside it. @default 1000 */
  stagger?: number;
  /**
   * Credential sent on connect (in the WebSocket `hello` frame or an `Authorization` header,
   * never in a URL). A function is called before every connect, so it can refresh the token.
   * @default undefined (no token)
   */
  token?: string | (() => string | Promise<string>);
  /** WebSocket constructor, for Node or tests. @default globalThis.WebSocket */
  WebSocket?: typeof globalThis.WebSocket;
  /** EventSource constructor, for Node or tests. @default globalThis.EventSource */
  EventSource?: typeof globalThis.EventSource;
  /** fetch implementation, for Node or tests. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** How many publishes may await their ack; one more rejects with `OUTBOX_FULL`. @default 100 */
  outboxSize?: number;
  /** Largest server message accepted, in characters; a larger one is an error and a reconnect. @default 1048576 */
  maxMessageSize?: number;
  /** Remember the working transport per URL in sessionStorage for 30 minutes and start there. @default true */
  rememberTransport?: boolean;
  /** Source of randomness in [0, 1) for backoff jitter and publish ids. @default Math.random */
  random?: () => number;
}

/** Options of `createClient` from `lifeline/core`: the transports are factories and required. */
export interface CoreClientOptions extends Omit<ClientOptions, 'transports'> {
  /** Transport factories in order of preference, e.g. `[websocket, longpoll]`. */
  transports: readonly TransportFactory[];
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  url: string;
  transports: TransportFactory[];
  initialDelay: number;
  maxDelay: number;
  stableAfter: number;
  connectTimeout: number;
  stagger: number;
  token: ClientOptions['token'];
  WebSocket: ClientOptions['WebSocket'];
  EventSource: ClientOptions['EventSource'];
  fetch: ClientOptions['fetch'];
  outboxSize: number;
  maxMessageSize: number;
  rememberTransport: boolean;
  random: () => number;
}

/** The defaults, in one place. */
export const defaults = {
  initialDelay: 500,
  maxDelay: 10_000,
  stableAfter: 5_000,
  connectTimeout: 10_000,
  stagger: 1_000,
  outboxSize: 100,
  maxMessageSize: 1_048_576,
  rememberTransport: true,
};

const fail = (what: string): never => {
  throw new TypeError(`lifeline: ${what}`);
};

/** Throws a TypeError unless `channel` is a valid channel name (1–256 characters). */
export function checkChannel(channel: unknown): void {
  if (typeof channel !== 'string' || !channel || channel.length > 256) fail(`channel must be a string of 1–256 characters, got ${String(channel)}`);
}

/**
 * Applies defaults and checks every option; nonsense throws a TypeError naming the option.
 * @param known transports the entry point bundles, by name, in default preference order
 */
export function resolveOptions(url: unknown, options: ClientOptions = {}, known: Partial<Record<TransportName, TransportFactory>> = {}): ResolvedOptions {
  if (typeof url !== 'string' || !url) fail(`url must be a non-empty string, got ${String(url)}`);
  // Explicit `undefined` means "use the default", as if the key were absent.
  const merged: Record<string, unknown> = { ...defaults, random: Math.random };
  for (const source of [options.reconnect, options]) {
    for (const [key, value] of Object.entries(source ?? {})) if (value !== undefined) merged[key] = value;
  }
  for (const [key, min] of [['initialDelay', 0], ['maxDelay', 0], ['stableAfter', 0], ['connectTimeout', 1], ['stagger', 0], ['outboxSize', 1], ['maxMessageSize', 1]] as const) {
    const value = merged[key];
    if (typeof value !== 'number' || !(value >= min)) fail(`option ${key} must be a number ≥ ${min}, got ${String(value)}`);
  }
  const transports = (options.transports ?? Object.values(known)).map((t) => (typeof t === 'function' ? t : known[t] ?? fail(`unknown transport ${String(t)}`)));
  if (!transports.length) fail('option transports must name at least one transport');
  for (const key of ['token', 'random', 'WebSocket', 'EventSource', 'fetch'] as const) {
    const type = typeof merged[key];
    if (type !== 'undefined' && type !== 'function' && !(key === 'token' && type === 'string')) fail(`option ${key} must be a function, got ${type}`);
  }
  return {
    ...(merged as Omit<ResolvedOptions, 'url' | 'transports'>),
    url: (url as string).replace(/\/+$/, ''),
    transports,
    rememberTransport: merged.rememberTransport !== false,
  };
}
