// The reference server mounted on a test-owned http server, so a test can cut every TCP
// connection at once — a network drop as the client sees it — through public surface only.
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createServer, type LifelineServer, type ServerOptions } from '../../src/server.js';

/** A server whose client connections can be dropped. */
export interface DroppableServer {
  server: LifelineServer;
  /** Base URL, e.g. `http://127.0.0.1:40000/rt`. */
  url: string;
  /** Every request URL the server saw (HTTP and WebSocket upgrades), in order. */
  requests: string[];
  /** Destroys every open TCP connection without a goodbye; returns how many there were. */
  drop(): number;
  /** While on, WebSocket upgrades are cut at once, as by a proxy that does not pass them. */
  refuseWebSockets(on: boolean): void;
  /** While on, every new TCP connection is cut at once: the network is down. */
  offline(on: boolean): void;
  /** Closes the Lifeline server, then the http server. */
  close(): Promise<void>;
}

/** Starts the reference server on 127.0.0.1, port 0, mounted with `attach`. */
export async function startDroppableServer(options: ServerOptions = {}): Promise<DroppableServer> {
  const http = createHttpServer();
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  let down = false;
  http.on('connection', (socket) => {
    if (down) return socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const server = createServer(options);
  server.attach(http);
  // The server's upgrade listeners run only while WebSockets are let through.
  let refusing = false;
  const upgradeListeners = http.listeners('upgrade') as ((...args: unknown[]) => void)[];
  http.removeAllListeners('upgrade');
  http.on('upgrade', (req, socket: Socket, head) => {
    if (refusing) socket.destroy();
    else for (const listener of upgradeListeners) listener.call(http, req, socket, head);
  });
  // After attach: it takes over the request listeners that exist when it mounts.
  http.on('request', (req) => requests.push(req.url ?? ''));
  http.on('upgrade', (req) => requests.push(req.url ?? ''));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}/rt`,
    requests,
    drop() {
      const count = sockets.size;
      for (const socket of sockets) socket.destroy();
      return count;
    },
    refuseWebSockets(on) {
      refusing = on;
    },
    offline(on) {
      down = on;
    },
    async close() {
      await server.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}
