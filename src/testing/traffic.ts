import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionInfo } from '../server/server.js';
import type { ServerTransport } from '../server/options.js';
import { SocketStall } from './stall.js';

/** One socket carrying a connection's traffic: a WebSocket, an SSE stream, a pending long poll. */
interface Exchange {
  transport: ServerTransport;
  stall: SocketStall;
}

/** A request of a stalled connection, waiting for the path to come back. */
interface Held {
  cid: string;
  socket: Socket;
  run: () => void;
}

/**
 * The sockets of open connections, by transport, and what drops and stalls do to them. A
 * WebSocket is its upgrade socket; an SSE connection is its stream; a long-poll connection is
 * a series of requests named by its cid, so it is dropped or stalled by cid: its pending poll's
 * socket, and every later `/poll` and `/send` with that cid.
 */
export class Traffic {
  private readonly open = new Set<Exchange>();
  private readonly dropped = new Set<string>();
  private readonly stalled = new Set<string>();
  private held: Held[] = [];

  /** Tracks a WebSocket's socket from its upgrade on. */
  upgrade(socket: Socket): void {
    const exchange: Exchange = { transport: 'websocket', stall: new SocketStall(socket) };
    this.open.add(exchange);
    socket.once('close', () => this.open.delete(exchange));
  }

  /**
   * Passes on a request under the server's path (`pass` hands it to the server), unless its
   * connection was dropped (the socket is cut, as the network would) or is stalled (it waits).
   */
  request(req: IncomingMessage, res: ServerResponse, endpoint: string, cid: string | null, pass: () => void): void {
    const named = cid !== null && (endpoint === '/sse' || endpoint === '/poll' || endpoint === '/send');
    if (named && this.dropped.has(cid)) {
      req.socket.destroy();
      return;
    }
    if (named && this.stalled.has(cid)) {
      this.held.push({ cid, socket: req.socket, run: () => this.request(req, res, endpoint, cid, pass) });
      return;
    }
    if (req.method === 'GET' && (endpoint === '/sse' || endpoint === '/poll')) {
      const exchange: Exchange = { transport: endpoint === '/sse' ? 'sse' : 'longpoll', stall: new SocketStall(req.socket) };
      this.open.add(exchange);
      res.once('close', () => this.open.delete(exchange));
    }
    pass();
  }

  /** True when the kit dropped `cid` (the server may not have noticed yet). */
  isDropped(cid: string): boolean {
    return this.dropped.has(cid);
  }

  /** True when `cid` was open when {@link stall} ran and has not been released. */
  isStalled(cid: string): boolean {
    return this.stalled.has(cid);
  }

  /**
   * Cuts the open connections of `transports` abruptly: their sockets are destroyed, and their
   * cids' later requests too. `open` is what the server reports as open; returns how many of
   * them were cut.
   */
  drop(transports: ReadonlySet<ServerTransport>, open: readonly ConnectionInfo[]): number {
    let count = 0;
    for (const info of open) {
      if (!transports.has(info.transport) || this.dropped.has(info.cid)) continue;
      this.dropped.add(info.cid);
      this.stalled.delete(info.cid);
      count++;
    }
    for (const exchange of [...this.open]) {
      if (!transports.has(exchange.transport)) continue;
      this.open.delete(exchange);
      exchange.stall.destroy();
    }
    for (const held of this.held.filter((h) => this.dropped.has(h.cid))) held.socket.destroy();
    this.held = this.held.filter((h) => !this.dropped.has(h.cid));
    return count;
  }

  /** Stalls every open connection (`open`, as the server reports them); returns how many. */
  stall(open: readonly ConnectionInfo[]): number {
    let count = 0;
    for (const info of open) {
      if (this.dropped.has(info.cid) || this.stalled.has(info.cid)) continue;
      this.stalled.add(info.cid);
      count++;
    }
    for (const exchange of this.open) exchange.stall.stall();
    return count;
  }

  /** Ends every stall: held bytes go out, held requests go on (those whose client gave up are skipped). */
  unstall(): void {
    this.stalled.clear();
    for (const exchange of this.open) exchange.stall.release();
    for (const held of this.held.splice(0)) if (!held.socket.destroyed) held.run();
  }

  /**
   * Forgets every connection (the server is stopping). Stalled ones are cut, not released: a
   * zombie's socket dies with the server process, and what it held never reaches the server.
   */
  reset(): void {
    for (const exchange of this.open) if (exchange.stall.stalled) exchange.stall.destroy();
    for (const held of this.held.splice(0)) held.socket.destroy();
    this.open.clear();
    this.dropped.clear();
    this.stalled.clear();
  }
}
