// Nodes of a Lifeline cluster for tests: each a reference server with its own Redis broker on
// an http server whose sockets the test can cut, plus a recorder of what a subscription saw.
import { createServer as createHttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Client, GapInfo, MessageMeta } from '../../src/index.js';
import { createServer, redisBroker, type Broker, type LifelineServer, type ServerOptions } from '../../src/server.js';
import { startRedis } from './redis.js';
import { startRedisCluster, type RedisClusterProcess } from './redis-cluster.js';
import { waitFor } from './wait-for.js';

/** The Redis that the nodes of a test share: one redis-server, or a Redis Cluster. */
export interface SharedRedis {
  url: string;
  dispose(): Promise<void>;
}

/** Each kind of shared Redis the many-node tests run against. */
export const sharedRedisKinds: { name: string; start: () => Promise<SharedRedis> }[] = [
  { name: 'one Redis', start: startRedis },
  { name: 'a 3-master Redis Cluster', start: startRedisCluster },
];

const isCluster = (redis: SharedRedis): redis is RedisClusterProcess => 'shardChannels' in redis;

/**
 * Starts `count` nodes with `start`. On a cluster, each node's own bus channel (which other
 * nodes relay to) is made to live on a different master, so relays cross shards: a node
 * that lands on a master already taken is killed and started again.
 */
export async function startSpreadNodes(redis: SharedRedis, count: number, start: () => Promise<Node>): Promise<Node[]> {
  const nodes: Node[] = [];
  if (!isCluster(redis)) {
    for (let i = 0; i < count; i++) nodes.push(await start());
    return nodes;
  }
  const taken = new Set<number>();
  for (let attempt = 0; nodes.length < count; attempt++) {
    if (attempt > 30) throw new Error('could not spread the nodes over the masters');
    const before = new Set((await redis.shardChannels()).flat());
    const node = await start();
    let master = -1;
    await waitFor(
      async () => {
        const now = await redis.shardChannels();
        master = now.findIndex((channels) => channels.some((channel) => channel.includes(':node:') && !before.has(channel)));
        if (master < 0) throw new Error('the node is not listening yet');
      },
      5000,
      50,
    );
    if (taken.has(master) && taken.size < 3) {
      await node.kill();
      continue;
    }
    taken.add(master);
    nodes.push(node);
  }
  return nodes;
}

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
  redis: { url: string },
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
