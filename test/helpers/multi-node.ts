// Nodes of a Lifeline cluster for tests: each a reference server with its own Redis broker on
// an http server whose sockets the test can cut, plus a recorder of what a subscription saw.
import { createServer as createHttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Client, GapInfo, MessageMeta } from '../../src/index.js';
import { createServer, redisBroker, type Broker, type LifelineServer, type ServerOptions } from '../../src/server.js';
import type { RedisProcess } from './redis.js';

/** One node of a cluster. */
export interface Node {
  /** Base URL, e.g. `http://127.0.0.1:40000/rt`. */
  url: string;
  port: number;
  server: LifelineServer;
  broker: Broker;
  /** False once killed. */
  alive: boolean;
  /** Paths of the HTTP requests this node received. */
  requests: string[];
  /**
   * Dies like a killed process: every socket is cut at once (clients see 1006), nothing more is
   * served. `hard` cuts its Redis links first, so no `bye` reaches a stream another node relays.
   */
  kill(hard?: boolean): Promise<void>;
}

/**
 * Starts a node on 127.0.0.1, port 0, with quick Redis retries. `track` receives its kill, so
 * the test's cleanup can stop it.
 */
export async function startNode(
  redis: RedisProcess,
  keyPrefix: string,
  track: (kill: () => Promise<void>) => void,
  options: ServerOptions = {},
  /** Lets a test put faults between the server and its broker. */
  wrap: (broker: Broker) => Broker = (broker) => broker,
): Promise<Node> {
  const http = createHttpServer();
  const sockets = new Set<Socket>();
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const broker = redisBroker({ url: redis.url, keyPrefix, reconnectDelay: () => 50, commandTimeout: 2000 });
  const server = createServer({ broker: wrap(broker), heartbeat: 2000, ...options });
  server.attach(http);
  const requests: string[] = [];
  http.prependListener('request', (req: { url?: string }) => requests.push(new URL(req.url ?? '/', 'http://x').pathname));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as { port: number }).port;
  const node: Node = {
    url: `http://127.0.0.1:${port}/rt`,
    port,
    server,
    broker,
    alive: true,
    requests,
    async kill(hard = false) {
      if (!node.alive) return;
      node.alive = false;
      if (hard) await broker.close();
      for (const socket of sockets) socket.destroy();
      http.close();
      // Releases the server's timers; its connections are already gone.
      await server.close();
      await broker.close();
    },
  };
  track(() => node.kill());
  return node;
}

/** Subscribes `client` to `channel` and records every message and gap. */
export function record(client: Client, channel: string) {
  const messages: [unknown, MessageMeta][] = [];
  const gaps: GapInfo[] = [];
  const sub = client.subscribe(channel);
  sub.on('message', (data, meta) => messages.push([data, meta]));
  sub.on('gap', (gap) => gaps.push(gap));
  return { sub, messages, gaps, seqs: () => messages.map(([, meta]) => meta.seq), data: () => messages.map(([data]) => data) };
}

/** The whole numbers from `from` to `to`, both included. */
export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
