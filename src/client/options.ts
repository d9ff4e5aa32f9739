import type { TransportFactory, TransportName } from '../transports/transport.js';
import { closest, describeValue, warnOnce } from './dev.js';

/** Options of `createClient`. Every field is optional; the defaults suit a browser page. */
export interface ClientOptions {
  /**
   * Transports in order of preference: names (only with the `lifeline-rt` entry, which bundles
   * all three) or factories from `lifeline-rt/websocket`, `lifeline-rt/sse`, `lifeline-rt/longpoll`.
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
   * never in a URL). A function is called before every connect, so it can refresh the token;
   * it must return (or resolve to) a string, or `undefined` for none.
   * @default undefined (no token)
   */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** WebSocket constructor, for Node or tests. @default globalThis.WebSocket */
  WebSocket?: typeof globalThis.WebSocket;
  /** EventSource constructor, for Node or tests. @default globalThis.EventSource */
  EventSource?: typeof globalThis.EventSource;
  /** fetch implementation, for Node or tests. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /**
   * How many publishes may await their ack (kept while the connection is down and resent after
   * it reconnects); one more rejects with `OUTBOX_FULL`. The default rides out an outage of
   * 25 s for a page publishing 40 a second. @default 1000
   */
  outboxSize?: number;
  /**
   * How many characters of encoded `pub` frames may await their ack, all publishes together; a
   * publish that would take the outbox past it rejects with `OUTBOX_FULL`, whichever of this and
   * `outboxSize` comes first. Characters, as `maxMessageSize` counts them. @default 1048576
   */
  outboxChars?: number;
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
  outboxSize: 1_000,
  outboxChars: 1_048_576,
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

/** The fields of the `reconnect` option; the other keys of `defaults` are top-level options. */
const reconnectKeys: readonly string[] = ['initialDelay', 'maxDelay', 'stableAfter'];
/** Options that inject a platform object or a source of randomness: functions when given. */
const injectables = ['random', 'WebSocket', 'EventSource', 'fetch'];

/** Timers past 2^31 - 1 ms fire at once, so `Infinity` would mean a storm, not "never". */
const TIMER_LIMIT = 2 ** 31;

/** True when `value` may be given for option `key`: the type of its default, a function for an injectable. */
function isValid(key: string, value: unknown): boolean {
  const type = typeof value;
  if (key === 'token') return type === 'string' || type === 'function';
  if (!(key in defaults)) return type === 'function';
  // NaN fails the range check.
  return (
    type === typeof defaults[key as keyof typeof defaults] &&
    (type !== 'number' || ((value as number) >= 0 && (value as number) < TIMER_LIMIT))
  );
}

// The development build's sentences, by option or argument (the production build drops them).
const expected: Record<string, string> = __DEV__
  ? {
      number: 'a number from 0 to 2147483647 (ms for times: setTimeout fires a longer timer at once)',
      boolean: 'true or false',
      function: 'a function (or left out for the default)',
      token: 'a string, or a function returning a string or a promise of one',
      reconnect: 'an object such as { initialDelay: 500, maxDelay: 10000 }',
      url: "the server's absolute http(s) base URL, e.g. https://example.com/rt (the client picks ws: or wss: itself)",
      channel: 'a string of 1 to 256 characters',
      since: 'a cursor { epoch, seq }, as sub.cursor gives',
      data: 'a JSON value',
    }
  : {};

/** Development build: what option `key` must be. */
function expectation(key: string): string {
  const field = key.replace('reconnect.', '');
  const kind =
    field in defaults
      ? typeof defaults[field as keyof typeof defaults]
      : (injectables as readonly string[]).includes(field)
        ? 'function'
        : field;
  return expected[kind] ?? kind;
}

/**
 * Throws the TypeError for an option (or argument) `name` holding `value`. The development
 * build says what it must be: `expectation`, unless the caller says it.
 */
export function badOption(name: string, value: unknown, what?: string): never {
  throw new TypeError(
    __DEV__ ? `lifeline: ${name} must be ${what ?? expectation(name)}, not ${describeValue(value)}` : `lifeline: bad ${name}`,
  );
}

/** Throws a TypeError unless `channel` is a valid channel name (1–256 characters). */
export function checkChannel(channel: unknown): void {
  if (typeof channel !== 'string' || !channel || channel.length > 256) badOption('channel', channel);
}

/** Development build: warns once about keys this client does not know, with the likely one meant. */
function warnUnknownKeys(source: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(source)) {
    if (known.includes(key)) continue;
    const guess = closest(key, known);
    warnOnce(`key:${where}${key}`, `unknown option ${where}${key} is ignored${guess ? ` (did you mean ${where}${guess}?)` : ''}`);
  }
}

/** Turns the `transports` option into factories, checking every entry. */
function resolveTransports(given: unknown, known: Partial<Record<TransportName, TransportFactory>>): TransportFactory[] {
  const list = given ?? Object.values(known);
  if (!Array.isArray(list) || !list.length) {
    badOption('transports', list, __DEV__ ? transportsExpected(known) : undefined);
  }
  return list.map((entry) => {
    if (typeof entry === 'function') return entry;
    const factory = known[entry as TransportName];
    if (!factory) badOption('transports', entry, __DEV__ ? transportsExpected(known) : undefined);
    return factory;
  });
}

function transportsExpected(known: object): string {
  const names = Object.keys(known);
  return names.length
    ? `a non-empty array of ${names.map((name) => `'${name}'`).join(', ')} or transport factories`
    : 'a non-empty array of transport factories: lifeline-rt/core takes no names; pass the factories of lifeline-rt/websocket, lifeline-rt/sse or lifeline-rt/longpoll';
}

/**
 * Applies defaults and checks every option; nonsense throws a TypeError naming the option
 * (the development build says what it must be and warns about unknown keys).
 * @param known transports the entry point bundles, by name, in default preference order
 */
export function resolveOptions(
  url: string,
  options: ClientOptions = {},
  known: Partial<Record<TransportName, TransportFactory>> = {},
): ResolvedOptions {
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) badOption('url', url);
  const { reconnect } = options;
  if (reconnect !== undefined && (typeof reconnect !== 'object' || reconnect === null)) badOption('reconnect', reconnect);
  if (__DEV__) {
    const topLevel = Object.keys(defaults).filter((key) => !reconnectKeys.includes(key));
    warnUnknownKeys(options, ['transports', 'reconnect', 'token', ...topLevel, ...injectables], '');
    if (reconnect) warnUnknownKeys(reconnect, reconnectKeys, 'reconnect.');
  }
  const resolved: Record<string, unknown> = { ...defaults, random: Math.random };
  /** Takes option `key` from `source` when given (explicit `undefined` means the default). */
  const take = (source: Record<string, unknown> | undefined, key: string, prefix = '') => {
    const value = source?.[key];
    if (value === undefined) return;
    if (!isValid(key, value)) badOption(prefix + key, value);
    resolved[key] = value;
  };
  for (const key in defaults) {
    if (reconnectKeys.includes(key)) take(reconnect, key, 'reconnect.');
    else take(options as Record<string, unknown>, key);
  }
  for (const key of [...injectables, 'token']) take(options as Record<string, unknown>, key);
  resolved.transports = resolveTransports(options.transports, known);
  resolved.url = url.replace(/\/+$/, '');
  if (
    __DEV__ &&
    !options.WebSocket &&
    typeof WebSocket === 'undefined' &&
    (resolved.transports as TransportFactory[]).some((factory) => factory.transportName === 'websocket')
  ) {
    warnOnce(
      'no-websocket',
      "there is no global WebSocket here (Node 20 has none), so the websocket transport fails and a fallback is used. Pass one, e.g. the ws package's: createClient(url, { WebSocket })",
    );
  }
  return resolved as ResolvedOptions;
}
