import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { CloseCode, ErrorCode } from '../protocol/index.js';
import { Cluster } from './cluster.js';
import { handleConnect, handleSend } from './connect-endpoint.js';
import { ServerContext } from './context.js';
import { hostAllowed } from './host.js';
import { handleHealth, handlePublish, publish, type PublishAck } from './http-api.js';
import { bearerToken, sendError } from './http-util.js';
import { clientIp } from './limits.js';
import { LongPollEndpoint, httpPollReply } from './long-polling-endpoint.js';
import { resolveServerOptions, type ServerOptions, type ServerTransport } from './options.js';
import { answerLanding, answerOutside } from './landing.js';
import { answerPreflight, corsHeaders, originAllowed, originOf, setCorsHeaders } from './origin.js';
import { RefusedOriginLog } from './origin-log.js';
import { limitSocketsPerIp } from './socket-limit.js';
import { SseEndpoint } from './sse-endpoint.js';
import { WebSocketEndpoint, refuseUpgrade } from './websocket-endpoint.js';

/** The request's URL, or undefined when it cannot be parsed (then it is not ours). */
function parseUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/** One open client connection, as {@link LifelineServer.describeConnections} reports it. */
export interface ConnectionInfo {
  /** The connection id announced in `welcome` (SSE and long polling quote it in their URLs). */
  cid: string;
  /** The transport it runs on. */
  transport: ServerTransport;
  /** Channels whose subscription is live: answered with `subscribed` or `gap`, so every later publish reaches it. */
  channels: string[];
}

/** A Lifeline server: mount it on an http server or let it listen on its own. */
export interface LifelineServer {
  /**
   * Mounts on an existing server: handles requests under `path` and upgrades on `{path}/ws`,
   * and leaves everything else to the request listeners already installed (e.g. an Express app).
   * Call it after the host's request listener is in place (`attach(app.listen(port))`): the
   * listeners present at that moment are moved behind Lifeline's routing.
   */
  attach(httpServer: Server): void;
  /** Listens on its own http server; `host` defaults to every interface. */
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /**
   * Stops gracefully: WebSockets close with 1012, SSE streams and pending polls get `bye`
   * (1012), new requests get 503. Resolves when every connection is gone.
   */
  close(): Promise<void>;
  /**
   * Publishes from the backend, in process. Rejects with a TypeError for a bad channel or id,
   * or data that is not JSON (a cycle, a function, a BigInt), with a RangeError for data over
   * `maxMessageSize` bytes encoded, and with the broker's error when the broker fails.
   */
  publish(channel: string, data: unknown, id?: string): Promise<PublishAck>;
  /** Open client connections on all transports. */
  readonly connections: number;
  /**
   * The open client connections with their transport and live subscriptions, oldest first: a
   * snapshot for tests and diagnostics (the testing kit's `connections` and `waitForConnection`).
   */
  describeConnections(): ConnectionInfo[];
}

/** Creates a Lifeline server. Throws a TypeError naming the first bad option. */
export function createServer<Principal = unknown>(options: ServerOptions<Principal> = {}): LifelineServer {
  const resolved = resolveServerOptions(options as ServerOptions);
  const context = new ServerContext(resolved);
  const { path } = resolved;
  const refusedOrigins = new RefusedOriginLog(resolved.log, resolved.allowOrigins);
  /** The message of a refused origin's 403, with the fix. */
  const refusal = (req: IncomingMessage) =>
    `Origin ${originOf(req)} not allowed: start the server with --allow-origin ${originOf(req)} or add it to allowOrigins`;
  /** Checks Origin, logging a refusal. */
  const allowed = (req: IncomingMessage, where: string) => {
    if (originAllowed(req, resolved.allowOrigins)) return true;
    refusedOrigins.refused(originOf(req)!, where);
    return false;
  };
  const sse = new SseEndpoint(context);
  const longPoll = new LongPollEndpoint(context);
  const websocket = new WebSocketEndpoint(context);
  // With a broker that links nodes, any node serves any request of an SSE or long-poll connection.
  const { bus } = resolved.broker;
  const cluster = bus && context.node !== undefined ? new Cluster(context, bus, context.node, sse, longPoll) : undefined;
  const attached: Array<() => void> = [];
  let ownServer: Server | undefined;
  /** Names given to `listen`, which the Host check takes as the server's own. */
  const boundHosts: string[] = [];
  let closing: Promise<void> | undefined;

  const ours = (pathname: string) => pathname === path || pathname.startsWith(`${path}/`);

  /** Handles a request if it is under `path`; false leaves it to someone else. */
  function handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const url = parseUrl(req);
    if (!url || !ours(url.pathname)) return false;
    void route(req, res, url).catch(() => {
      if (!res.headersSent) sendError(res, 500, ErrorCode.INTERNAL, 'Internal server error');
      else res.destroy();
    });
    return true;
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // On every answer, refusals included: a page can read why it was refused only with them.
    setCorsHeaders(req, res);
    const endpoint = url.pathname.slice(path.length);
    // The publish API is for backends (its key guards it) and /health for probes, either of which may use any name.
    if (endpoint !== '/publish' && endpoint !== '/health' && !hostAllowed(req, resolved.allowedHosts, boundHosts)) {
      context.drain(req);
      return sendError(res, 403, ErrorCode.HOST_NOT_ALLOWED, 'Host not allowed (see the allowedHosts option)');
    }
    const originOk = allowed(req, url.pathname);
    // A preflight passes for a refused origin too, so that the browser sends the request and
    // the page can read its 403 rather than a bare CORS failure.
    if (req.method === 'OPTIONS') return answerPreflight(res);
    if (!originOk) {
      context.drain(req);
      return sendError(res, 403, ErrorCode.ORIGIN_NOT_ALLOWED, refusal(req));
    }
    if ((endpoint === '' || endpoint === '/') && (req.method === 'GET' || req.method === 'HEAD')) {
      context.drain(req);
      return answerLanding(req, res, path, resolved.apiKey !== undefined);
    }
    if (endpoint === '/health' && req.method === 'GET') return handleHealth(res, context);
    if (context.stopping) {
      context.drain(req);
      return sendError(res, 503, ErrorCode.SHUTTING_DOWN, 'Server is shutting down');
    }
    const cid = url.searchParams.get('cid') ?? '';
    const method = {
      '/connect': 'POST',
      '/send': 'POST',
      '/publish': 'POST',
      '/sse': 'GET',
      '/poll': 'GET',
      '/health': 'GET',
      '/ws': 'GET',
    }[endpoint];
    if (method === undefined) {
      context.drain(req);
      return sendError(res, 404, ErrorCode.NOT_FOUND, `No endpoint ${url.pathname}`);
    }
    if (req.method !== method) {
      context.drain(req);
      return sendError(res, 405, ErrorCode.NOT_FOUND, `${url.pathname} takes ${method}`, { Allow: method });
    }
    if (endpoint === '/ws') {
      // A plain GET: upgrades never reach here (see handleUpgrade).
      context.drain(req);
      return sendError(res, 426, ErrorCode.NOT_FOUND, `${url.pathname} needs a WebSocket upgrade`, {
        Upgrade: 'websocket',
        Connection: 'Upgrade',
      });
    }
    const owner = cluster?.ownerOf(cid);
    const key = bearerToken(req);
    // A local connection's /send and /poll need its key (relayed ones are checked by their owner).
    if ((endpoint === '/send' || endpoint === '/poll') && owner === undefined && !context.keyMatches(cid, key)) {
      context.drain(req);
      return sendError(res, 404, ErrorCode.UNKNOWN_CONNECTION, 'Unknown cid, or wrong connection key');
    }
    switch (endpoint) {
      case '/connect':
        await cluster?.ready();
        return handleConnect(req, res, context, sse, longPoll);
      case '/send':
        return handleSend(
          req,
          res,
          context,
          cid,
          cluster && owner !== undefined ? (text) => cluster.relaySend(res, owner, cid, key, text) : undefined,
        );
      case '/publish':
        return handlePublish(req, res, context);
      case '/sse':
        return cluster && owner !== undefined ? cluster.relaySse(req, res, owner, cid) : sse.open(req, res, cid);
      default: {
        const ack = url.searchParams.get('ack');
        return cluster && owner !== undefined ? cluster.relayPoll(res, owner, cid, key, ack) : longPoll.poll(httpPollReply(res), cid, ack);
      }
    }
  }

  /** Handles an upgrade on `{path}/ws`; false leaves it to someone else. */
  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (parseUrl(req)?.pathname !== `${path}/ws`) return false;
    socket.on('error', () => socket.destroy());
    // Browsers never show a refused upgrade to the page; the CORS headers serve other readers alike.
    const cors = corsHeaders(req);
    if (!hostAllowed(req, resolved.allowedHosts, boundHosts)) {
      refuseUpgrade(socket, 403, ErrorCode.HOST_NOT_ALLOWED, 'Host not allowed (see the allowedHosts option)', cors);
    } else if (!allowed(req, `${path}/ws`)) {
      refuseUpgrade(socket, 403, ErrorCode.ORIGIN_NOT_ALLOWED, refusal(req), cors);
    } else if (context.stopping) {
      refuseUpgrade(socket, 503, ErrorCode.SHUTTING_DOWN, 'Server is shutting down', cors);
    } else {
      const ip = clientIp(req.socket);
      const limited = context.rateLimited(ip);
      if (limited) {
        // A reconnect loop after RATE_LIMITED costs a refused request, not a WebSocket.
        refuseUpgrade(socket, 429, ErrorCode.RATE_LIMITED, limited.message, { ...cors, ...limited.headers });
      } else if (!context.limiter.acquire(ip)) {
        refuseUpgrade(
          socket,
          429,
          ErrorCode.TOO_MANY_CONNECTIONS,
          `At most ${resolved.maxConnectionsPerIp} connections per IP address`,
          cors,
        );
      } else {
        websocket.upgrade(req, socket, head, ip);
      }
    }
    return true;
  }

  function mount(server: Server, takeOverRequests: boolean): void {
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!handleUpgrade(req, socket, head) && server === ownServer)
        refuseUpgrade(socket, 404, ErrorCode.NOT_FOUND, `No such endpoint: the WebSocket endpoint is ${path}/ws`, corsHeaders(req));
    };
    server.on('upgrade', onUpgrade);
    attached.push(() => server.off('upgrade', onUpgrade));
    if (!takeOverRequests) return;
    // Route our paths before the host's listeners (an Express app would answer them with 404).
    const hostListeners = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
    server.removeAllListeners('request');
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      if (handleRequest(req, res)) return;
      for (const listener of hostListeners) listener.call(server, req, res);
    };
    server.on('request', onRequest);
    attached.push(() => {
      server.off('request', onRequest);
      for (const listener of hostListeners) server.on('request', listener);
    });
  }

  async function shutdown(): Promise<void> {
    context.stopping = true;
    sse.close();
    for (const stop of [...context.stopHooks]) stop();
    // Counted before any closes: the window is sized by how many clients this node holds.
    const spread = context.restartSpread();
    for (const connection of [...context.connections.values()]) connection.close(CloseCode.SERVICE_RESTART, 'server restart', spread);
    websocket.close();
    cluster?.close();
    while (context.closing.size > 0) await Promise.allSettled([...context.closing]);
    longPoll.close();
    context.hub.close();
    for (const detach of attached.splice(0)) detach();
    if (resolved.ownsBroker) await resolved.broker.close();
    if (ownServer) {
      const server = ownServer;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  return {
    attach(httpServer) {
      mount(httpServer, true);
    },
    async listen(port = 0, host) {
      if (ownServer) throw new Error('listen: this server is already listening');
      const fallback = resolved.fallback;
      const server = createHttpServer(
        {
          headersTimeout: resolved.headersTimeout,
          requestTimeout: resolved.requestTimeout,
          // Node checks both timeouts every 30 s by default, which let a slowloris socket live 95 s.
          connectionsCheckingInterval: 1000,
        },
        (req, res) => {
          if (handleRequest(req, res)) return;
          const answer = () => answerOutside(req, res, path, resolved.apiKey !== undefined);
          if (fallback) fallback(req, res, answer);
          else answer();
        },
      );
      ownServer = server;
      if (host !== undefined && host !== '') boundHosts.push(host.toLowerCase());
      attached.push(limitSocketsPerIp(server, resolved.maxSocketsPerIp));
      mount(server, false);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address() as AddressInfo;
      const shownHost = host === undefined || host === '' || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      const hostPart = shownHost.includes(':') ? `[${shownHost}]` : shownHost;
      return { url: `http://${hostPart}:${address.port}${path}`, port: address.port };
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
    publish(channel, data, id) {
      return publish(context, channel, data, id);
    },
    get connections() {
      return context.connections.size;
    },
    describeConnections() {
      return [...context.connections.values()].map((connection) => ({
        cid: connection.cid,
        transport: connection.transport,
        // A subscription still reading its history (or waiting to retry) would miss nothing, but
        // its client has no answer yet: only answered ones count as live.
        channels: context.hub.liveChannels(connection),
      }));
    },
  };
}
