import type { TransportFactory, TransportName } from '../transports/transport.js';

/** Options of `createClient`. Every field is optional; the defaults suit a browser page. */
export interface ClientOptions {
  /**
   * Transports in order of preference: names (only with the `lifeline-rt` entry, which bundles all
   * three) or factories from `lifeline-rt/websocket`, `lifeline-rt/sse`, `lifeline-rt/longpoll`.
   * @default ['websocket', 'sse', 'longpoll'] (required with `lifeline-rt/core`)
   */
  transports?: readonly (TransportName | TransportFactory)[];
  /**
   * Reconnection backoff: full jitter between 0 and min(maxDelay, initialDelay × 2^attempt).
   * @default { initialDelay: 500, maxDelay: 10000, stableAfter: 5000 }
   */
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
  /**
   * Largest message in characters, both ways: a larger server message is an error and a
   * reconnect; a publish whose frame is larger rejects with `FRAME_TOO_LARGE` and is not sent.
   * Keep it at least the server's `maxBatchSize` (262144 by default), the size its wire
   * messages reach, and at most a third of the server's `maxMessageSize × maxFramesPerMessage`
   * (a character can take 3 bytes), so that no publish is over its limit for a whole message.
   * @default 1048576
   */
  maxMessageSize?: number;
  /** Remember the working transport per URL in sessionStorage for 30 minutes and start there. @default true */
  rememberTransport?: boolean;
  /** Source of randomness in [0, 1) for backoff jitter (publish ids use their own, so clients never share them). @default Math.random */
  random?: () => number;
}

/** Options of `createClient` from `lifeline-rt/core`: the transports are factories and required. */
export interface CoreClientOptions extends Omit<ClientOptions, 'transports'> {
  /** Transport factories in order of preference, e.g. `[websocket, longpoll]`. */
  transports: readonly TransportFactory[];
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

/** Options after defaults and validation. */
export type ResolvedOptions = typeof defaults &
  Pick<ClientOptions, 'token' | 'WebSocket' | 'EventSource' | 'fetch'> & {
    url: string;
    transports: TransportFactory[];
    random: () => number;
  };

/** Throws the TypeError that options and arguments that make no sense get, naming what and the value. */
export const fail = (what: string, value?: unknown): never => {
  throw new TypeError(`lifeline: bad ${what} ${String(value)}`);
};

/** Throws a TypeError unless `channel` is a valid channel name (1–256 characters). */
export function checkChannel(channel: unknown): void {
  if (typeof channel !== 'string' || !channel || channel.length > 256) fail('channel', channel);
}

/**
 * Applies defaults and checks every option; nonsense throws a TypeError naming the option.
 * @param known transports the entry point bundles, by name, in default preference order
 */
export function resolveOptions(
  url: string,
  options: ClientOptions = {},
  known: Partial<Record<TransportName, TransportFactory>> = {},
): ResolvedOptions {
  const o: Record<string, unknown> = { ...defaults, random: Math.random, url };
  // Explicit `undefined` means "use the default", as if the key were absent.
  for (const source of [options.reconnect, options] as Record<string, unknown>[]) {
    for (const key in source) if (source[key] !== undefined) o[key] = source[key];
  }
  const bad = (key: string) => fail(key, o[key]);
  if (typeof url !== 'string' || !url) bad('url');
  // Numbers must be numbers from 0 to setTimeout's limit, 2^31 - 1 ms (NaN fails too; a timer set
  // beyond it fires at once, so `Infinity` would mean a storm, not "never"); rememberTransport a boolean.
  for (const key in defaults)
    if (typeof o[key] !== typeof defaults[key as keyof typeof defaults] || !((o[key] as number) >= 0 && (o[key] as number) < 2 ** 31))
      bad(key);
  // Injectables are functions when given; the token may also be a string.
  for (const key of ['token', 'random', 'WebSocket', 'EventSource', 'fetch'])
    if (!/^([fu]|stringtoken$)/.test(typeof o[key] + key)) bad(key);
  o.transports = (options.transports ?? Object.values(known)).map((t) =>
    typeof t === 'function' ? t : (known[t] ?? fail('transport', t)),
  );
  if (!(o.transports as []).length) bad('transports');
  o.url = url.replace(/\/+$/, '');
  return o as ResolvedOptions;
}
