import type http from 'node:http';

// The fault proxy's modes, options, counters and handle; the proxy itself is fault-proxy.ts.

/** What the proxy does to WebSocket upgrade requests. */
export type WebSocketFault =
  /** Tunnel the upgrade to the server untouched. */
  | 'pass'
  /** Answer `403 Forbidden` and close, like a proxy that forbids WebSockets. */
  | 'refuse'
  /** Forward the request without its `Upgrade`/`Connection` headers and relay the server's plain HTTP answer. */
  | 'strip'
  /** Accept the TCP connection and never answer: the browser's WebSocket hangs for minutes. */
  | 'blackhole';

/** What the proxy does to Server-Sent Events streams (`text/event-stream` responses or `/sse` requests). */
export type SseFault =
  /** Stream events through as they arrive. */
  | 'pass'
  /** Send the headers at once but hold the body until the response ends or `sseBufferBytes` are held. */
  | 'buffer'
  /** Answer `502 Bad Gateway` without asking the server. */
  | 'refuse';

/** The switchable fault modes; {@link FaultProxy.set} changes them for new traffic at any time. */
export interface FaultModes {
  /** @default 'pass' */
  websocket: WebSocketFault;
  /** @default 'pass' */
  sse: SseFault;
  /**
   * With `sse: 'buffer'`, flush what is held once it reaches this many bytes, like a proxy
   * with a fixed buffer. `Infinity` holds everything until the response ends.
   * @default Infinity
   */
  sseBufferBytes: number;
  /** Delay in ms added before each request is forwarded and to every chunk in both directions. @default 0 */
  latency: number;
  /**
   * Deliver every server → client WebSocket text message twice, on tunnels opened from now on
   * (the extension header is stripped so frames stay uncompressed). A client must drop the
   * repeats by seq.
   * @default false
   */
  duplicateWebSocketMessages: boolean;
}

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The real server, e.g. `http://127.0.0.1:4000`. Requests keep their `Host` header, so the server sees the proxy's origin as its own. */
  target: string;
  /** Modes to start with. @default every mode at its default */
  modes?: Partial<FaultModes>;
  /**
   * Answers requests locally instead of forwarding them (a test page, a bundle); return true
   * when handled. Served requests are never counted as links nor killed.
   * @default undefined (forward everything)
   */
  serve?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  /** Most proxied exchanges (tunnels, streams, requests) open at once; more are refused with 503. @default 256 */
  maxLinks?: number;
}

/** Which proxied exchanges a kill may pick. */
export type LinkKind = 'websocket' | 'sse' | 'http';

/** Counters, for assertions that a fault really happened. */
export interface FaultStats {
  /** HTTP requests forwarded to the server (SSE streams included). */
  forwarded: number;
  /** WebSocket upgrades tunnelled to the server. */
  upgrades: number;
  /** WebSocket upgrades answered 403. */
  refusedUpgrades: number;
  /** WebSocket upgrades forwarded without their Upgrade header. */
  strippedUpgrades: number;
  /** WebSocket upgrades accepted and never answered. */
  blackholed: number;
  /** SSE requests answered 502. */
  refusedSse: number;
  /** SSE responses whose body was held back. */
  bufferedSse: number;
  /** Exchanges destroyed by {@link FaultProxy.killAll} or random kills. */
  kills: number;
  /** WebSocket messages delivered twice (`duplicateWebSocketMessages`). */
  duplicated: number;
}

/** A running fault-injecting proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT`, the origin pages should load from. */
  readonly url: string;
  readonly port: number;
  /** Live counters (the same object throughout). */
  readonly stats: FaultStats;
  /** Current modes. */
  readonly modes: Readonly<FaultModes>;
  /** Changes modes for traffic that starts from now on. */
  set(modes: Partial<FaultModes>): void;
  /** Destroys every open exchange of the given kinds (all kinds by default) at both ends; returns how many. */
  killAll(kinds?: readonly LinkKind[]): number;
  /**
   * Silently stops forwarding bytes, both ways, on every exchange open now (new ones pass):
   * the connection stays up but is dead, like one behind a NAT that forgot it. Returns how many.
   */
  stallAll(kinds?: readonly LinkKind[]): number;
  /**
   * Destroys one random open exchange of the given kinds every `everyMs` (nothing when none is
   * open) until `max` kills or until the returned function is called.
   */
  killRandomly(options: { everyMs: number; kinds?: readonly LinkKind[]; max?: number }): () => void;
  /** Stops killing, destroys every connection (held ones included) and stops listening. */
  close(): Promise<void>;
}
