import type { Redis, RedisOptions } from 'ioredis';
import type { NodeBus } from './broker.js';
import { loadIoredis } from './load-ioredis.js';

/** What the node bus needs from the Redis broker around it. */
export interface RedisBusDeps {
  url: string;
  /** Options for the bus's own subscriber connection. */
  redisOptions: RedisOptions;
  /** Publishes on the broker's command connection; resolves to the number of receivers. */
  publish(name: string, payload: string): Promise<number>;
  /** Prefix of the per-node pub/sub channels. */
  prefix: string;
}

/** A node bus that can be closed with the broker. */
export interface RedisBus extends NodeBus {
  close(): void;
}

/**
 * Node-to-node messages over Redis pub/sub, one channel per node. PUBLISH answers how many
 * subscribers got the message, so a message to a node that is gone is known at once (false)
 * instead of timing out. The subscriber connection is made on the first `listen`: a broker
 * used only for publishing never opens it.
 */
export function createRedisBus(deps: RedisBusDeps): RedisBus {
  const handlers = new Map<string, (message: string) => void>();
  const name = (node: string) => `${deps.prefix}node:${node}`;
  let subscriber: Redis | undefined;
  let closed = false;

  const connection = () => {
    if (subscriber) return subscriber;
    // Unlike the broker's connections this one queues and resubscribes by itself: a node must
    // hear its relays again after Redis comes back, and nothing here needs to fail fast.
    const { Redis: RedisClient } = loadIoredis();
    const client = new RedisClient(deps.url, {
      ...deps.redisOptions,
      enableOfflineQueue: true,
      autoResubscribe: true,
      maxRetriesPerRequest: null,
    });
    client.on('error', () => undefined);
    client.on('message', (channel: string, payload: string) => handlers.get(channel)?.(payload));
    subscriber = client;
    return client;
  };

  return {
    async send(node, message) {
      if (closed) return false;
      try {
        return (await deps.publish(name(node), message)) > 0;
      } catch {
        return false;
      }
    },
    async listen(node, handler) {
      if (closed) throw new Error('Redis node bus is closed');
      const channel = name(node);
      handlers.set(channel, handler);
      const client = connection();
      await client.subscribe(channel);
      return () => {
        if (handlers.get(channel) !== handler) return;
        handlers.delete(channel);
        void client.unsubscribe(channel).catch(() => undefined);
      };
    },
    close() {
      closed = true;
      handlers.clear();
      subscriber?.disconnect();
    },
  };
}
