import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Broker } from './brokers/broker.js';
import { memoryBroker } from './brokers/memory.js';
import { normalizeOrigin } from './origin.js';

/** The transports a client can connect with. */
export type ServerTransport = 'websocket' | 'sse' | 'longpoll';

/** What {@link ServerOptions.authenticate} is told about a connection attempt. */
export interface AuthenticateContext {
  /** The token from `hello` (WebSocket) or from `Authorization: Bearer` (SSE, long polling). */
  token?: string;
  /** The transport being opened. */
  transport: ServerTransport;
  /** The HTTP request that opened it (the upgrade request for WebSocket). */
  request: IncomingMessage;
}

/** What a subscribe or publish asks {@link ServerOptions.authorize} for. */
export type AuthorizeAction = 'subscribe' | 'publish';

/** Options of `createServer`. Every field is optional. */
export interface ServerOptions<Principal = unknown> {
  /**
   * Base path of every endpoint (`{path}/ws`, `{path}/sse`, `{path}/publish`, …).
   * @default '/rt'
   */
  path?: string;
  /**
   * Storage and fan-out. The server closes a broker it made itself, never one passed in.
   * @default memoryBroker({ historySize, historyTtl, maxHistoryBytes, maxTotalHistoryBytes, maxChannels, dedupTtl })
   */
  broker?: Broker;
  /**
   * Messages kept per channel for replay (default broker only).
   * @default 1000
   */
  historySize?: number;
  /**
   * How long (ms) a message stays replayable (default broker only).
   * @default 300000
   */
  historyTtl?: number;
  /**
   * Bytes of history kept per channel, counting each message's data as UTF-8 JSON; the oldest
   * messages go first, and a resume from before them gets a `gap` (default broker only).
   * @default 8388608
   */
  maxHistoryBytes?: number;
  /**
   * Bytes of history kept across all channels; past it the oldest messages of any channel go
   * first (default broker only).
   * @default 67108864
   */
  maxTotalHistoryBytes?: number;
  /**
   * Channels kept by the broker. A new channel past it evicts the one published to least
   * recently among those without subscribers (its history is lost: a resume gets a `gap`);
   * channels with subscribers are never evicted (default broker only).
   * @default 10000
   */
  maxChannels?: number;
  /**
   * How long (ms) a publish id is remembered for dedup (default broker only).
   * @default 120000
   */
  dedupTtl?: number;
  /**
   * Heartbeat interval (ms), announced in `welcome`: idle connections get a `ping` this often,
   * and a WebSocket silent for twice as long is closed with 4004.
   * @default 25000
   */
  heartbeat?: number;
  /**
   * Key for `POST {path}/publish` (`Authorization: Bearer <apiKey>`). Unset: the publish API answers 404.
   * @default undefined
   */
  apiKey?: string;
  /**
   * Origins allowed besides the server's own, as `scheme://host[:port]` (a trailing slash is
   * dropped: `http://localhost:5173/` is `http://localhost:5173`; a value with a path, or
   * without a scheme, throws). `'*'` allows every origin. Requests without an `Origin` header
   * (non-browser clients) are always allowed. `localhost` and `127.0.0.1` are different origins.
   * @default []
   */
  allowOrigins?: string[];
  /**
   * Where the server writes what an operator should know, one line per call: today a refused
   * origin (once per origin per minute), with the option that would allow it.
   * @default (message) => console.warn(message)
   */
  log?(message: string): void;
  /**
   * Host names (the `Host` header, port aside) the client endpoints answer to besides IP
   * literals, `localhost` (and `*.localhost`) and a name given to `listen`; an entry starting
   * with a dot also takes its subdomains (`.example.com`), and `'*'` takes every host. Another
   * Host gets 403 `HOST_NOT_ALLOWED`: a DNS rebinding page (`Host: attacker.example`, whose
   * name now points at this server) is refused though its Origin matches its Host. Behind a
   * proxy that passes the public Host (`proxy_set_header Host $http_host`), list the public
   * name. The publish API and `/health` are not checked (the API key guards the former).
   * @default []
   */
  allowedHosts?: string[];
  /**
   * Decides who is connecting. Return a principal (anything but `false`); throw or return
   * `false` to refuse with `UNAUTHORIZED`. Unset: everyone is accepted with principal `undefined`.
   * A principal that is an object with a number `expiresAt` (ms since 1970, e.g. a JWT's
   * `exp × 1000`) ends its connection when that time comes, on every transport: `bye` 4005
   * (`token expired`), after which the reference client calls its `token` function again and
   * reconnects. One already past is refused with `UNAUTHORIZED`.
   * @default undefined
   */
  authenticate?(context: AuthenticateContext): Principal | false | Promise<Principal | false>;
  /**
   * Decides whether `principal` may subscribe or publish to `channel`; `false` (or a throw)
   * answers `FORBIDDEN`. Unset: everything is allowed.
   * @default undefined
   */
  authorize?(principal: Principal, channel: string, action: AuthorizeAction): boolean | Promise<boolean>;
  /**
   * Largest frame (bytes) accepted from a client; a bigger one is refused alone with
   * `FRAME_TOO_LARGE` (naming its publish id). A wire message may hold `maxFramesPerMessage`
   * such frames; one over `maxMessageSize × maxFramesPerMessage` closes the WebSocket with 1009
   * (HTTP 413 on `/send`). Also the largest body of the publish API.
   * @default 65536
   */
  maxMessageSize?: number;
  /**
   * Deepest nesting of arrays and objects accepted in JSON from a client: a frame is level 1,
   * so a `pub`'s `data` may nest one level less. A deeper frame is refused alone with
   * `BAD_JSON` (naming its publish id); a deeper body of `/connect` or the publish API gets
   * HTTP 400 `BAD_JSON`. It keeps everything the server stores re-encodable: `JSON.stringify`
   * throws a few thousand levels down. At most 1000.
   * @default 64
   */
  maxJsonDepth?: number;
  /**
   * Most frames in one client wire message; more gets one `TOO_MANY_FRAMES` error and none is
   * processed. At least 100, since the reference client resumes up to 100 channels in one message.
   * @default 100
   */
  maxFramesPerMessage?: number;
  /**
   * Publishes per second one connection may keep up (a token bucket refilled at this rate).
   * Over it, the connection gets an `error` frame `RATE_LIMITED` and is closed with 1008; its
   * client resends what is unacknowledged after reconnecting, and dedup keeps it single. The
   * address's next connections start from a copy of the spent bucket (not a full one) until it
   * is full again, so reconnecting buys no new burst; while it holds less than a tenth of
   * `publishBurst`, the address's WebSocket upgrades and `/connect`s are refused with HTTP 429
   * `RATE_LIMITED` and `Retry-After`.
   * @default 100
   */
  publishRate?: number;
  /**
   * Publishes one connection may send at once before `publishRate` applies (the bucket's size).
   * At least 100. Keep it at least the clients' `outboxSize` (1000 by default): the reference
   * client resends every unacknowledged publish (its outbox) as soon as it reconnects, and a
   * resend over this is refused with `RATE_LIMITED` and a close, again after each reconnect.
   * @default 1000
   */
  publishBurst?: number;
  /**
   * Bytes of client wire messages a connection may have waiting to be handled (behind a slow
   * `authorize` hook or broker, or publishes being retried); a message that would go over it
   * closes the connection with 1008. A message that finds nothing waiting is always taken, so
   * any message within `maxMessageSize × maxFramesPerMessage` gets through.
   * @default 4194304
   */
  maxInboundBytes?: number;
  /**
   * Most channels one connection may be subscribed to.
   * @default 100
   */
  maxSubscriptions?: number;
  /**
   * Most simultaneous connections (and pending SSE/long-poll tickets) from one IP address.
   * @default 100
   */
  maxConnectionsPerIp?: number;
  /**
   * Bytes per second one IP address may send over its WebSockets and long-poll `/send` and
   * `/connect` bodies, all its connections together (a bucket of one second's worth). While an
   * address is over, the server stops reading its sockets until the budget has refilled: TCP
   * slows the sender down and nothing is refused, so one address's big messages can't take the
   * event loop from everyone else. Behind a proxy every client shares the proxy's address:
   * raise it there, as `maxConnectionsPerIp`.
   * @default 1048576
   */
  maxInboundRatePerIp?: number;
  /**
   * Most open sockets (HTTP requests, SSE streams, WebSockets, idle keep-alives) from one IP
   * address when the server runs standalone (`listen`); one more is answered 429
   * `TOO_MANY_CONNECTIONS` and closed. With `attach`, limit sockets on your own server.
   * @default 256
   */
  maxSocketsPerIp?: number;
  /**
   * Time (ms) a client has to send a request's headers when the server runs standalone
   * (`listen`), checked every second: a slowloris socket is closed (408) within about this
   * long. At most `requestTimeout`. With `attach`, set `headersTimeout` on your own server.
   * @default 5000
   */
  headersTimeout?: number;
  /**
   * Time (ms) a client has to send a whole request, body included, when the server runs
   * standalone (`listen`); an SSE stream or a held poll is not cut by it (their requests end
   * at once). With `attach`, set `requestTimeout` on your own server.
   * @default 10000
   */
  requestTimeout?: number;
  /**
   * Unsent bytes (WebSocket buffer, SSE write buffer, unacknowledged long-poll frames) beyond
   * which a client counts as slow. A send that finds the client caught up (at most this much
   * unsent), or that carries a resume's replay, goes out whole however large (up to 64 times
   * this in all), and the client takes it first. What waits behind it counts: over this at
   * every send for `heartbeat` ms, or over 16 times this at once, closes the connection with
   * 4003; so does holding over this while taking nothing for `heartbeat` ms (except on long
   * polling, where the poll expiry covers a client that stopped). On WebSocket, what the
   * client has read is also judged by the `pong`s that answer the server's pings (one after
   * every this many bytes): more than this written since the last ping it answered, with a
   * ping unanswered for `heartbeat`, closes with 4003 too, whatever the kernel buffers hold.
   * @default 1048576
   */
  maxSendBuffer?: number;
  /**
   * Largest wire message the server sends, in characters of JSON: frames ready at the same
   * moment (a burst, a resume's replay, a long poll's backlog) are split into messages of at
   * most this size, in order. At least `maxMessageSize` + 2048 (the default is raised to that
   * when it is more), so that any message fits whole; keep it at most the clients'
   * `maxMessageSize` (1048576 by default), which refuses any larger wire message.
   * @default 262144
   */
  maxBatchSize?: number;
  /**
   * Longest time (ms) a long poll is held open when there is nothing to send; the server
   * answers within `min(longPollHold, heartbeat)`.
   * @default 20000
   */
  longPollHold?: number;
  /**
   * Time (ms) a WebSocket has to send `hello`, an SSE ticket (`cid`) has to open its stream,
   * and a long-poll connection has to make its first poll (else it ends and frees its IP slot).
   * @default 10000
   */
  handshakeTimeout?: number;
  /**
   * Reconnects per second this node aims at when it restarts (`close()`, SIGTERM): the `bye`
   * (1012) tells every client to wait a random time within `spread` ms before reconnecting,
   * where `spread` = 1000 × connections held / this, at least 8000 and at most 60000.
   * @default 200
   */
  restartReconnectRate?: number;
  /**
   * Shortest window (ms) a restart's `bye` asks clients to spread their reconnects over, however
   * few the node holds: over 8 s about an eighth of them come back each second. At most 60000.
   * @default 8000
   */
  minRestartSpread?: number;
  /**
   * Handles requests outside `path` when the server runs standalone (`listen`); `next()`
   * answers the request as the server does without a fallback. Unset: `GET /` answers a short
   * page (HTML for a browser, else JSON) naming the endpoints, anything else 404 `NOT_FOUND`
   * JSON naming the base path, both with CORS headers.
   * @default undefined
   */
  fallback?(request: IncomingMessage, response: ServerResponse, next: () => void): void;
}

/** Options after defaults are applied and values checked. */
export interface ResolvedServerOptions {
  path: string;
  broker: Broker;
  /** True when the server made the broker and so must close it. */
  ownsBroker: boolean;
  heartbeat: number;
  apiKey: string | undefined;
  allowOrigins: readonly string[];
  log: (message: string) => void;
  allowedHosts: readonly string[];
  authenticate: ServerOptions['authenticate'];
  authorize: ServerOptions['authorize'];
  maxMessageSize: number;
  maxJsonDepth: number;
  maxFramesPerMessage: number;
  maxSubscriptions: number;
  publishRate: number;
  publishBurst: number;
  maxInboundBytes: number;
  maxConnectionsPerIp: number;
  maxInboundRatePerIp: number;
  maxSocketsPerIp: number;
  headersTimeout: number;
  requestTimeout: number;
  maxSendBuffer: number;
  maxBatchSize: number;
  longPollHold: number;
  handshakeTimeout: number;
  restartReconnectRate: number;
  minRestartSpread: number;
  fallback: ServerOptions['fallback'];
}

/** Default values of {@link ServerOptions}. */
export const serverDefaults = {
  path: '/rt',
  historySize: 1000,
  historyTtl: 300_000,
  maxHistoryBytes: 8_388_608,
  maxTotalHistoryBytes: 67_108_864,
  maxChannels: 10_000,
  dedupTtl: 120_000,
  heartbeat: 25_000,
  allowOrigins: [] as readonly string[],
  allowedHosts: [] as readonly string[],
  maxMessageSize: 65_536,
  maxJsonDepth: 64,
  maxFramesPerMessage: 100,
  maxSubscriptions: 100,
  publishRate: 100,
  publishBurst: 1_000,
  maxInboundBytes: 4_194_304,
  maxConnectionsPerIp: 100,
  maxInboundRatePerIp: 1_048_576,
  maxSocketsPerIp: 256,
  headersTimeout: 5000,
  requestTimeout: 10_000,
  maxSendBuffer: 1_048_576,
  maxBatchSize: 262_144,
  longPollHold: 20_000,
  handshakeTimeout: 10_000,
  restartReconnectRate: 200,
  minRestartSpread: 8000,
} as const;

/**
 * Room (characters) a message's frame needs around its data: type, channel (256 characters,
 * up to 6 each once JSON-escaped), epoch and seq. maxBatchSize must leave it, so that a
 * message of maxMessageSize fits one wire message a client accepts.
 */
const ENVELOPE = 2048;

/**
 * The error of a bad option: a TypeError with `code` `BAD_OPTION` and the option's name in
 * `option`, whose message names the option, what it must be and what it got.
 */
export interface ServerOptionError extends TypeError {
  code: 'BAD_OPTION';
  option: string;
}

const fail = (name: string, expected: string, value: unknown, why = ''): never => {
  const got = typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? JSON.stringify(value) : String(value);
  throw Object.assign(new TypeError(`createServer: option "${name}" must be ${expected}, got ${got}${why}`), {
    code: 'BAD_OPTION' as const,
    option: name,
  }) satisfies ServerOptionError;
};

/** The entries of `allowOrigins` in the form browsers send (see {@link normalizeOrigin}). */
function resolveOrigins(value: unknown): string[] {
  const expected = 'an array of origins such as "https://example.com" or "*"';
  if (!Array.isArray(value)) return fail('allowOrigins', expected, value);
  return value.map((entry: unknown) => {
    if (typeof entry !== 'string' || entry === '') return fail('allowOrigins', expected, value);
    const result = normalizeOrigin(entry);
    if ('origin' in result) return result.origin;
    const hint = result.suggestion ? ` (did you mean ${JSON.stringify(result.suggestion)}?)` : '';
    return fail('allowOrigins', expected, entry, `: ${result.problem}${hint}`);
  });
}

/** A whole number within [min, max]; undefined takes the default. */
function whole(name: string, value: unknown, fallback: number, min: number, max = 2 ** 31 - 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(name, `a whole number from ${min} to ${max}`, value);
  }
  return value as number;
}

function optionalFunction<T>(name: string, value: T): T {
  if (value !== undefined && typeof value !== 'function') fail(name, 'a function', value);
  return value;
}

/** Applies defaults and checks every option; throws a TypeError naming the first bad one. */
export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  if (typeof options !== 'object' || options === null) fail('options', 'an object', options);
  const d = serverDefaults;
  const path = options.path ?? d.path;
  if (typeof path !== 'string' || !/^\/[\w\-./~]*$/.test(path) || (path.length > 1 && path.endsWith('/'))) {
    fail('path', 'a URL path starting with "/" and not ending with "/"', path);
  }
  const allowOrigins = resolveOrigins(options.allowOrigins ?? d.allowOrigins);
  const allowedHosts = options.allowedHosts ?? d.allowedHosts;
  if (!Array.isArray(allowedHosts) || allowedHosts.some((h) => typeof h !== 'string' || !/^(\*|\.?[\w.-]+)$/.test(h))) {
    fail('allowedHosts', 'an array of host names such as "rt.example.com", ".example.com" or "*" (no port)', allowedHosts);
  }
  if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || options.apiKey === '')) {
    fail('apiKey', 'a non-empty string', options.apiKey);
  }
  const historySize = whole('historySize', options.historySize, d.historySize, 0);
  const historyTtl = whole('historyTtl', options.historyTtl, d.historyTtl, 0, Number.MAX_SAFE_INTEGER);
  const dedupTtl = whole('dedupTtl', options.dedupTtl, d.dedupTtl, 0, Number.MAX_SAFE_INTEGER);
  const maxHistoryBytes = whole('maxHistoryBytes', options.maxHistoryBytes, d.maxHistoryBytes, 0, Number.MAX_SAFE_INTEGER);
  const maxTotalHistoryBytes = whole(
    'maxTotalHistoryBytes',
    options.maxTotalHistoryBytes,
    d.maxTotalHistoryBytes,
    0,
    Number.MAX_SAFE_INTEGER,
  );
  const requestTimeout = whole('requestTimeout', options.requestTimeout, d.requestTimeout, 100);
  // Node refuses a header timeout longer than the request timeout.
  const headersTimeout = whole('headersTimeout', options.headersTimeout, Math.min(d.headersTimeout, requestTimeout), 100, requestTimeout);
  const maxChannels = whole('maxChannels', options.maxChannels, d.maxChannels, 1);
  const broker = options.broker ?? memoryBroker({ historySize, historyTtl, maxHistoryBytes, maxTotalHistoryBytes, maxChannels, dedupTtl });
  const maxMessageSize = whole('maxMessageSize', options.maxMessageSize, d.maxMessageSize, 64);
  if (typeof broker.publish !== 'function' || typeof broker.subscribe !== 'function' || typeof broker.read !== 'function') {
    fail('broker', 'a Broker (publish, read, subscribe, health, close)', broker);
  }
  return {
    path: path === '/' ? '' : path,
    broker,
    ownsBroker: options.broker === undefined,
    heartbeat: whole('heartbeat', options.heartbeat, d.heartbeat, 10),
    apiKey: options.apiKey,
    allowOrigins,
    log: optionalFunction('log', options.log) ?? ((message: string) => console.warn(message)),
    allowedHosts: allowedHosts.map((h) => h.toLowerCase()),
    authenticate: optionalFunction('authenticate', options.authenticate),
    authorize: optionalFunction('authorize', options.authorize),
    maxMessageSize,
    // A frame and its data need two levels; past 1000 re-encoding comes near the stack's limit.
    maxJsonDepth: whole('maxJsonDepth', options.maxJsonDepth, d.maxJsonDepth, 2, 1000),
    // At least 100: the reference client resumes up to 100 channels in one message.
    maxFramesPerMessage: whole('maxFramesPerMessage', options.maxFramesPerMessage, d.maxFramesPerMessage, 100),
    maxSubscriptions: whole('maxSubscriptions', options.maxSubscriptions, d.maxSubscriptions, 1),
    publishRate: whole('publishRate', options.publishRate, d.publishRate, 1),
    // At least 100: the reference client resends its whole outbox (100) when it reconnects.
    publishBurst: whole('publishBurst', options.publishBurst, d.publishBurst, 100),
    maxInboundBytes: whole('maxInboundBytes', options.maxInboundBytes, d.maxInboundBytes, 1024, Number.MAX_SAFE_INTEGER),
    maxConnectionsPerIp: whole('maxConnectionsPerIp', options.maxConnectionsPerIp, d.maxConnectionsPerIp, 1),
    maxInboundRatePerIp: whole('maxInboundRatePerIp', options.maxInboundRatePerIp, d.maxInboundRatePerIp, 1024, Number.MAX_SAFE_INTEGER),
    maxSocketsPerIp: whole('maxSocketsPerIp', options.maxSocketsPerIp, d.maxSocketsPerIp, 1),
    headersTimeout,
    requestTimeout,
    maxSendBuffer: whole('maxSendBuffer', options.maxSendBuffer, d.maxSendBuffer, 1024, Number.MAX_SAFE_INTEGER),
    maxBatchSize: whole(
      'maxBatchSize',
      options.maxBatchSize,
      Math.max(d.maxBatchSize, maxMessageSize + ENVELOPE),
      maxMessageSize + ENVELOPE,
      Number.MAX_SAFE_INTEGER,
    ),
    longPollHold: whole('longPollHold', options.longPollHold, d.longPollHold, 10),
    handshakeTimeout: whole('handshakeTimeout', options.handshakeTimeout, d.handshakeTimeout, 10),
    restartReconnectRate: whole('restartReconnectRate', options.restartReconnectRate, d.restartReconnectRate, 1),
    minRestartSpread: whole('minRestartSpread', options.minRestartSpread, d.minRestartSpread, 0, 60_000),
    fallback: optionalFunction('fallback', options.fallback),
  };
}
