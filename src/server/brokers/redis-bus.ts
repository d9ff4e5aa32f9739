import type { NodeBus } from './broker.js';
import type { PubSub } from './redis-links.js';

/** What the node bus needs from the Redis broker around it. */
export interface RedisBusDeps {
  /**
   * Opens the bus's own subscriber connection, which queues and resubscribes by itself: a node
   * must hear its relays again after Redis comes back, and nothing here needs to fail fast.
   */
  openSubscriber(): Promise<PubSub>;
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
 * Node-to-node messages over Redis pub/sub, one channel per node (a sharded channel in a
 * cluster). The publish answers how many subscribers got the message, so a message to a node
 * that is gone is known at once (false) instead of timing out. The subscriber connection is
 * made on the first `listen`: a broker used only for publishing never opens it.
 */
export function createRedisBus(deps: RedisBusDeps): RedisBus {
  const handlers = new Map<string, (message: string) => void>();
  const name = (node: string) => `${deps.prefix}node:${node}`;
  let subscriber: Promise<PubSub> | undefined;
  let closed = false;

  const connection = () => {
    subscriber ??= deps.openSubscriber().then((made) => {
      made.client.on('error', () => undefined);
      made.onMessage((channel, payload) => handlers.get(channel)?.(payload));
      if (closed) made.client.disconnect();
      return made;
    });
    return subscriber;
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
      const made = await connection();
      await made.subscribe([channel]);
      return () => {
        if (handlers.get(channel) !== handler) return;
        handlers.delete(channel);
        void made.unsubscribe(channel).catch(() => undefined);
      };
    },
    close() {
      closed = true;
      handlers.clear();
      void subscriber?.then((made) => made.client.disconnect());
    },
  };
}
