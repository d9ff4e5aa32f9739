import { randomInt } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { FaultModes, FaultProxy, FaultProxyOptions, FaultStats, LinkKind } from './fault-types.js';
import { createWebSocketDuplicator } from './ws-duplicator.js';

export type * from './fault-types.js';

/** One proxied exchange: a WebSocket tunnel, an SSE stream or an HTTP request. */
interface Link {
  kind: LinkKind;
  /** Set by {@link FaultProxy.stallAll}: bytes are dropped from then on. */
  stalled: boolean;
  destroy(): void;
}

const defaults: FaultModes = { websocket: 'pass', sse: 'pass', sseBufferBytes: Infinity, latency: 0, duplicateWebSocketMessages: false };
const hopByHop = new Set(['connection', 'keep-alive', 'upgrade', 'proxy-connection', 'transfer-encoding']);

/** Starts a fault-injecting HTTP/WebSocket proxy on 127.0.0.1, port 0, in front of `options.target`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const targetPort = Number(target.port || 80);
  const maxLinks = options.maxLinks ?? 256;
  const modes: FaultModes = { ...defaults, ...options.modes };
  const stats: FaultStats = {
    forwarded: 0,
    upgrades: 0,
    refusedUpgrades: 0,
    strippedUpgrades: 0,
    blackholed: 0,
    refusedSse: 0,
    bufferedSse: 0,
    kills: 0,
    duplicated: 0,
  };
  const links = new Set<Link>();
  const sockets = new Set<Duplex>();
  const stopKillers = new Set<() => void>();
  const agent = new http.Agent({ keepAlive: false });

  /** Runs `fn` after the current latency, keeping order among calls made through the same queue. */
  const delayQueue = () => {
    let due = 0;
    return (fn: () => void) => {
      if (modes.latency <= 0 && due <= Date.now()) return fn();
      due = Math.max(due, Date.now() + modes.latency);
      setTimeout(fn, due - Date.now());
    };
  };

  const track = (socket: Duplex) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };

  const addLink = (kind: LinkKind, ends: Duplex[], onDestroy?: () => void): Link | undefined => {
    if (links.size >= maxLinks) return undefined;
    const link: Link = {
      kind,
      stalled: false,
      destroy: () => {
        links.delete(link);
        for (const end of ends) end.destroy();
        onDestroy?.();
      },
    };
    links.add(link);
    return link;
  };

  const isSseRequest = (req: http.IncomingMessage) =>
    /\/sse(\?|$)/.test(req.url ?? '') || (req.headers.accept ?? '').includes('text/event-stream');

  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (options.serve?.(req, res)) return;
    const sse = isSseRequest(req);
    if (sse && modes.sse === 'refuse') {
      stats.refusedSse++;
      res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>502 Bad Gateway</h1>');
      return;
    }
    const kind: LinkKind = sse ? 'sse' : 'http';
    const toServer = delayQueue();
    const toClient = delayQueue();
    const upstream = http.request({
      host: target.hostname,
      port: targetPort,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    });
    const link = addLink(kind, [req.socket], () => upstream.destroy());
    if (!link) {
      res.writeHead(503).end();
      return;
    }
    stats.forwarded++;
    upstream.on('error', () => link.destroy());
    req.on('data', (chunk: Buffer) => link.stalled || toServer(() => upstream.write(chunk)));
    req.on('end', () => toServer(() => upstream.end()));
    upstream.on('response', (answer) => {
      const headers = Object.entries(answer.headers).filter(([name]) => !hopByHop.has(name));
      const stream = (answer.headers['content-type'] ?? '').includes('text/event-stream');
      const hold = stream && modes.sse === 'buffer';
      const limit = modes.sseBufferBytes;
      if (hold) stats.bufferedSse++;
      const held: Buffer[] = [];
      let heldBytes = 0;
      toClient(() => {
        res.writeHead(answer.statusCode ?? 502, Object.fromEntries(headers) as http.OutgoingHttpHeaders);
        res.flushHeaders();
      });
      answer.on('data', (chunk: Buffer) => {
        if (link.stalled) return;
        if (!hold) return toClient(() => res.write(chunk));
        held.push(chunk);
        heldBytes += chunk.length;
        if (heldBytes < limit) return;
        const all = Buffer.concat(held.splice(0));
        heldBytes = 0;
        toClient(() => res.write(all));
      });
      answer.on('end', () => {
        if (link.stalled) return;
        const rest = Buffer.concat(held.splice(0));
        toClient(() => {
          links.delete(link);
          res.end(rest);
        });
      });
      answer.on('error', () => link.destroy());
    });
    res.on('close', () => {
      if (!res.writableFinished) link.destroy();
      links.delete(link);
    });
  };

  const upgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    track(socket);
    if (modes.websocket === 'refuse') {
      stats.refusedUpgrades++;
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    if (modes.websocket === 'blackhole') {
      stats.blackholed++;
      return;
    }
    if (modes.websocket === 'strip') {
      stats.strippedUpgrades++;
      relayWithoutUpgrade(req, socket);
      return;
    }
    const server = net.connect(targetPort, target.hostname);
    track(server);
    const link = addLink('websocket', [socket, server]);
    if (!link) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      server.destroy();
      return;
    }
    stats.upgrades++;
    const toServer = delayQueue();
    const toClient = delayQueue();
    const duplicate = modes.duplicateWebSocketMessages ? createWebSocketDuplicator(() => stats.duplicated++) : undefined;
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (duplicate && req.rawHeaders[i]!.toLowerCase() === 'sec-websocket-extensions') continue;
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    toServer(() => server.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), head])));
    socket.on('data', (chunk: Buffer) => link.stalled || toServer(() => server.write(chunk)));
    server.on('data', (chunk: Buffer) => {
      if (link.stalled) return;
      const bytes = duplicate ? duplicate(chunk) : chunk;
      toClient(() => socket.write(bytes));
    });
    // Either end going away takes the other with it, as a real proxy's tunnel would; `end`
    // (not `destroy`) so bytes still queued behind the latency get delivered first.
    socket.on('close', () =>
      toServer(() => {
        links.delete(link);
        server.end();
      }),
    );
    // A stalled tunnel is dead in both directions: not even the server's close gets through.
    server.on(
      'close',
      () =>
        link.stalled ||
        toClient(() => {
          links.delete(link);
          socket.end();
        }),
    );
  };

  /** Sends the upgrade request on as plain HTTP and writes the server's answer back raw. */
  const relayWithoutUpgrade = (req: http.IncomingMessage, socket: Duplex) => {
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([name]) => !hopByHop.has(name) && !name.startsWith('sec-websocket')),
    );
    const upstream = http.request({ host: target.hostname, port: targetPort, method: req.method, path: req.url, headers, agent });
    upstream.on('error', () => socket.destroy());
    upstream.on('response', (answer) => {
      const body: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => body.push(chunk));
      answer.on('end', () => {
        const payload = Buffer.concat(body);
        const head = [`HTTP/1.1 ${answer.statusCode ?? 502} ${answer.statusMessage ?? ''}`];
        for (const [name, value] of Object.entries(answer.headers)) {
          if (!hopByHop.has(name) && name !== 'content-length' && value !== undefined) head.push(`${name}: ${String(value)}`);
        }
        head.push(`content-length: ${payload.length}`, 'connection: close');
        socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), payload]));
      });
    });
    upstream.end();
  };

  const killOne = (link: Link) => {
    stats.kills++;
    link.destroy();
  };

  const server = http.createServer(forward);
  server.on('connection', track);
  server.on('upgrade', upgrade);
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  const pick = (kinds: readonly LinkKind[] | undefined) => [...links].filter((link) => !kinds || kinds.includes(link.kind));

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats,
    modes,
    set(next) {
      Object.assign(modes, next);
    },
    killAll(kinds) {
      const chosen = pick(kinds);
      chosen.forEach(killOne);
      return chosen.length;
    },
    stallAll(kinds) {
      const chosen = pick(kinds);
      for (const link of chosen) link.stalled = true;
      return chosen.length;
    },
    killRandomly({ everyMs, kinds, max = Infinity }) {
      let killed = 0;
      const timer = setInterval(() => {
        const open = pick(kinds);
        if (open.length === 0) return;
        killOne(open[randomInt(open.length)]!);
        if (++killed >= max) stop();
      }, everyMs);
      const stop = () => {
        clearInterval(timer);
        stopKillers.delete(stop);
      };
      stopKillers.add(stop);
      return stop;
    },
    async close() {
      for (const stop of [...stopKillers]) stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const link of [...links]) link.destroy();
      for (const socket of [...sockets]) socket.destroy();
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
