import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { loadIoredis } from './load-ioredis.js';

/** A connection to a standalone Redis, or a client of a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Where the broker's Redis is: one address, or several seeds of one cluster. */
export interface RedisAddress {
  /** Each `host:port` given, in order. */
  seeds: { host: string; port: number }[];
  /** Credentials, database and TLS of the first URL, applied to every connection. */
  nodeOptions: RedisOptions;
  /** True when several URLs were given: that is always a cluster. */
  seedList: boolean;
}

/**
 * Parses `redis://[user:pass@]host[:port][/db]` (`rediss://` for TLS), or a comma-separated
 * list of such URLs naming seeds of one Redis Cluster. Throws a TypeError on anything else.
 */
export function parseRedisAddress(text: string): RedisAddress {
  const urls = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      let url: URL;
      try {
        url = new URL(part);
      } catch {
        throw new TypeError(`redisBroker: "${part}" is not a URL, e.g. "redis://127.0.0.1:6379"`);
      }
      if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
        throw new TypeError(`redisBroker: "${part}" must be a redis:// or rediss:// URL`);
      return url;
    });
  if (urls.length === 0) throw new TypeError('redisBroker: url is required, e.g. "redis://127.0.0.1:6379"');
  const first = urls[0]!;
  const nodeOptions: RedisOptions = {};
  if (first.username) nodeOptions.username = decodeURIComponent(first.username);
  if (first.password) nodeOptions.password = decodeURIComponent(first.password);
  const db = first.pathname.replace(/^\//, '');
  if (db !== '') nodeOptions.db = Number(db);
  if (first.protocol === 'rediss:') nodeOptions.tls = {};
  return {
    seeds: urls.map((url) => ({ host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 6379 : Number(url.port) })),
    nodeOptions,
    seedList: urls.length > 1,
  };
}

/**
 * Asks the one address given whether it is a cluster node (`INFO cluster`). Resolves undefined
 * when it cannot be reached, so the caller retries.
 */
export async function isClusterNode(address: RedisAddress, options: RedisOptions): Promise<boolean | undefined> {
  const probe = new (loadIoredis().Redis)({
    ...options,
    ...address.nodeOptions,
    ...address.seeds[0],
    lazyConnect: true,
    retryStrategy: () => null,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return /cluster_enabled:1/.test(await probe.info('cluster'));
  } catch {
    return undefined;
  } finally {
    probe.disconnect();
  }
}

/** Opens one connection of the kind found: a standalone client, or a cluster client. */
export function openClient(
  address: RedisAddress,
  cluster: boolean,
  options: RedisOptions,
  clusterOptions: ClusterOptions = {},
): RedisClient {
  const ioredis = loadIoredis();
  if (!cluster) return new ioredis.Redis({ ...options, ...address.nodeOptions, ...address.seeds[0] });
  const { retryStrategy, enableOfflineQueue, ...nodeOptions } = options;
  return new ioredis.Cluster(address.seeds, {
    ...clusterOptions,
    enableOfflineQueue,
    clusterRetryStrategy: retryStrategy ?? undefined,
    // Topology changes (a failover, resharding) are learnt from MOVED and from this refresh.
    slotsRefreshInterval: 2000,
    redisOptions: { ...nodeOptions, ...address.nodeOptions },
  });
}

/**
 * A pub/sub connection: classic SUBSCRIBE on a standalone Redis, sharded SSUBSCRIBE on a
 * cluster (each channel lives on its own slot's shard, so a publish travels to one shard only).
 */
export interface PubSub {
  readonly client: RedisClient;
  /** Subscribes to these channels; resolves once Redis confirmed. */
  subscribe(names: string[]): Promise<unknown>;
  unsubscribe(name: string): Promise<unknown>;
  onMessage(handler: (name: string, payload: string) => void): void;
  /**
   * True when the client subscribes again by itself after a reconnect (the cluster client
   * does, per shard); false when the owner must call {@link PubSub.subscribe} again.
   */
  readonly resubscribes: boolean;
  /** Calls `handler` each time the subscriptions are back after a reconnect. */
  onResubscribed(handler: () => void): void;
}

/** True for a Redis Cluster client (ioredis marks them `isCluster`). */
export const isCluster = (client: RedisClient): client is Cluster => (client as { isCluster?: boolean }).isCluster === true;

/** Wraps a client made by {@link openClient} for pub/sub. */
export function pubSub(client: RedisClient): PubSub {
  if (isCluster(client)) {
    return {
      client,
      // Sharded channels of different slots cannot share one SSUBSCRIBE.
      subscribe: (names) => Promise.all(names.map((name) => client.ssubscribe(name))),
      unsubscribe: (name) => client.sunsubscribe(name),
      onMessage: (handler) => client.on('smessage', handler),
      resubscribes: true,
      onResubscribed: (handler) => client.on('subscribersReady', handler),
    };
  }
  let everReady = false;
  return {
    client,
    subscribe: (names) => client.subscribe(...names),
    unsubscribe: (name) => client.unsubscribe(name),
    onMessage: (handler) => client.on('message', handler),
    resubscribes: false,
    onResubscribed: (handler) =>
      client.on('ready', () => {
        if (everReady) handler();
        everReady = true;
      }),
  };
}

/** Connection states of a node that has not failed: ready, or lazily not connected yet. */
const UNBROKEN = new Set(['ready', 'wait', 'connecting', 'connect']);

/**
 * Why a cluster cannot serve every slot right now, or undefined when it can: each slot's
 * master must have a connection that has not failed (the client drops a failed one from its
 * pool until the topology is refreshed).
 */
export function unreachableShard(cluster: Cluster): string | undefined {
  if (cluster.status !== 'ready') return `Redis Cluster connection ${cluster.status}`;
  const ready = new Set(
    cluster.nodes('master').flatMap((node) => (UNBROKEN.has(node.status) ? [`${node.options.host}:${node.options.port}`] : [])),
  );
  const owners = new Set<string>();
  for (let slot = 0; slot < 16384; slot++) {
    const owner = cluster.slots[slot]?.[0];
    if (owner === undefined) return `Redis Cluster slot ${slot} has no master`;
    owners.add(owner);
  }
  for (const owner of owners) if (!ready.has(owner)) return `Redis Cluster shard ${owner} is unreachable`;
  return undefined;
}
