import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { CloseCode, PROTOCOL_VERSION, type ByeFrame } from '../protocol/index.js';
import { Connection, type ConnectionSink } from './connection.js';
import { Hub } from './hub.js';
import type { InboundContext } from './inbound.js';
import { InboundMeter } from './inbound-rate.js';
import { IpLimiter, clientIp } from './limits.js';
import type { ResolvedServerOptions, ServerTransport } from './options.js';
import { restartSpread } from './restart-spread.js';
import { SpentBuckets } from './token-bucket.js';

/** Outcome of the `authenticate` hook. */
export type AuthResult = { ok: true; principal: unknown } | { ok: false };

/** The `expiresAt` (ms since 1970) of a principal, when it is an object that has a finite one. */
export function expiryOf(principal: unknown): number | undefined {
  const at = typeof principal === 'object' && principal !== null ? (principal as { expiresAt?: unknown }).expiresAt : undefined;
  return typeof at === 'number' && Number.isFinite(at) ? at : undefined;
}

/** Longest delay setTimeout takes; a later expiry is checked again then. */
const MAX_TIMER = 2 ** 31 - 1;

/**
 * State shared by every endpoint of one server: options, hub, live connections, the per-IP
 * limiter, and the things that must be waited for on shutdown.
 */
export class ServerContext implements InboundContext {
  readonly hub: Hub;
  readonly limiter: IpLimiter;
  /** Live connections by cid. */
  readonly connections = new Map<string, Connection>();
  /** Transports still winding down; `close()` waits for them. */
  readonly closing = new Set<Promise<void>>();
  /** Called once when the server starts stopping. */
  readonly stopHooks = new Set<() => void>();
  stopping = false;
  /** Bytes read per address, against maxInboundRatePerIp. */
  readonly meter: InboundMeter;
  readonly spentPublishes = new SpentBuckets();
  /**
   * This node's id when the broker links nodes (it prefixes every cid so that any node can
   * tell which node holds a connection); undefined on a single node.
   */
  readonly node: string | undefined;

  constructor(readonly options: ResolvedServerOptions) {
    this.node = options.broker.bus ? randomBytes(9).toString('base64url') : undefined;
    this.hub = new Hub(options.broker);
    this.limiter = new IpLimiter(options.maxConnectionsPerIp);
    this.meter = new InboundMeter(options.maxInboundRatePerIp);
  }

  /**
   * Reads and drops the body of a request that is answered without it (a refusal), metered like
   * any other: refusing must not be a way around maxInboundRatePerIp.
   */
  drain(req: IncomingMessage): void {
    this.meter.watch(clientIp(req.socket), req, req);
    req.resume();
  }

  /**
   * The 429 `RATE_LIMITED` answer (message and `Retry-After`) for a new connection from `ip`
   * while its address, cut for `RATE_LIMITED`, holds less than a tenth of `publishBurst` (a
   * connection now could not publish even that); undefined lets it in.
   */
  rateLimited(ip: string): { message: string; headers: { 'Retry-After': string } } | undefined {
    const ms = this.spentPublishes.retryAfter(ip, Math.ceil(this.options.publishBurst / 10));
    if (ms === 0) return undefined;
    const seconds = Math.ceil(ms / 1000);
    return {
      message: `This address was cut for publishing faster than publishRate; connect again in ${seconds} s`,
      headers: { 'Retry-After': String(seconds) },
    };
  }

  /** Runs the `authenticate` hook; no hook accepts everyone. */
  async authenticate(token: string | undefined, transport: ServerTransport, request: IncomingMessage): Promise<AuthResult> {
    const hook = this.options.authenticate;
    if (!hook) return { ok: true, principal: undefined };
    try {
      const principal = await hook(token === undefined ? { transport, request } : { token, transport, request });
      // A token that has already expired is refused like a wrong one.
      const expiresAt = expiryOf(principal);
      if (principal === false || (expiresAt !== undefined && expiresAt <= Date.now())) return { ok: false };
      return { ok: true, principal };
    } catch {
      return { ok: false };
    }
  }

  /**
   * Opens a connection whose IP slot is already taken, sends `welcome`, and arranges that
   * closing it releases the slot and its subscriptions.
   */
  open(cid: string, ip: string, principal: unknown, sink: ConnectionSink): Connection {
    let expiry: NodeJS.Timeout | undefined;
    const connection = new Connection(cid, ip, principal, sink, this.options, (closed) => {
      clearTimeout(expiry);
      this.connections.delete(closed.cid);
      this.limiter.release(closed.ip);
      this.hub.dropConnection(closed);
    });
    this.connections.set(cid, connection);
    connection.send({ type: 'welcome', v: PROTOCOL_VERSION, cid, heartbeat: this.options.heartbeat, time: Date.now() });
    // Authentication is checked at connect only: a token that expires ends the connection, on
    // every transport, and its client comes back with a fresh one (its token function runs on
    // every connect). Always from a timer, so the transport has the connection in hand first.
    const expiresAt = expiryOf(principal);
    if (expiresAt !== undefined) {
      const check = () => {
        const left = expiresAt - Date.now();
        if (left > 0) expiry = setTimeout(check, Math.min(left, MAX_TIMER));
        else connection.close(CloseCode.TOKEN_EXPIRED, 'token expired');
      };
      expiry = setTimeout(check, Math.max(0, Math.min(expiresAt - Date.now(), MAX_TIMER)));
    }
    return connection;
  }

  /** A fresh, unguessable connection id (it doubles as the SSE/long-poll ticket): `<node>.<random>` on a linked node. */
  newCid(): string {
    return this.node === undefined ? newCid() : `${this.node}.${newCid()}`;
  }

  /** Secret behind every connection key this server hands out; it never leaves the process. */
  private readonly keySecret = randomBytes(32);

  /**
   * The key of an SSE or long-poll connection, answered by `/connect` beside the cid. The cid
   * travels in URLs, which end up in logs; `/send` and `/poll` also need this key, which travels
   * only in the `Authorization` header, so a logged URL is no way into the connection. Derived
   * from the cid, so nothing has to be stored.
   */
  connectionKey(cid: string): string {
    return createHmac('sha256', this.keySecret).update(cid).digest('base64url').slice(0, 32);
  }

  /** True when `presented` is the key of `cid` (compared in constant time). */
  keyMatches(cid: string, presented: string | undefined): boolean {
    const expected = Buffer.from(this.connectionKey(cid));
    const given = Buffer.from(presented ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The window (ms) this node's clients should spread their reconnects over when it restarts now. */
  restartSpread(): number {
    return restartSpread(this.connections.size, this.options.restartReconnectRate, this.options.minRestartSpread);
  }

  /** The `bye` of a restart, with its spread. */
  restartBye(): ByeFrame {
    return { type: 'bye', code: CloseCode.SERVICE_RESTART, reason: 'server restart', spread: this.restartSpread() };
  }

  /** Registers a promise that settles when a transport has finished closing. */
  track(done: Promise<void>): void {
    this.closing.add(done);
    void done.finally(() => this.closing.delete(done));
  }
}

/** A fresh, unguessable connection id (it doubles as the SSE/long-poll ticket). */
export const newCid = (): string => randomBytes(16).toString('base64url');
