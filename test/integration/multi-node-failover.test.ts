// A crashed node must not stall the SSE and long-poll clients that other nodes relay to it:
// the owner runs in a child process and is killed with SIGKILL at the default heartbeat, and
// the relayed client must get messages again within 3 s (the relay probes the owner over the
// bus every 500 ms; see OWNER_PROBE_MS in src/server/cluster.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/index.js';
import { serverDefaults } from '../../src/server.js';
import { range, record, sharedRedisKinds, startNode } from '../helpers/multi-node.js';
import { spawnNodeProcess } from '../helpers/node-process.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanup: (() => unknown)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe.each(sharedRedisKinds)('over $name', ({ start }) => {
  it.each(['sse', 'longpoll'] as const)(
    '%s: a relayed client whose owner is killed -9 gets messages again within 3 s, exactly once and in order',
    { timeout: 40_000 },
    async (transport) => {
      const redis = await start();
      cleanup.push(() => redis.dispose());
      const owner = await spawnNodeProcess(redis.url, 'failover:');
      cleanup.push(() => owner.kill());
      const relay = await startNode(redis, 'failover:', (kill) => cleanup.push(kill), { heartbeat: serverDefaults.heartbeat });

      // A balancer that sends /connect to the owner while it lives, and every other request
      // (the stream, the polls, the sends) to the other node, which relays them.
      let ownerAlive = true;
      const retarget = (url: string | URL) => {
        const target = new URL(String(url));
        target.port = String(ownerAlive && target.pathname.endsWith('/connect') ? owner.port : relay.port);
        return target;
      };
      const client = createClient(`http://127.0.0.1:${relay.port}/rt`, {
        transports: [transport],
        rememberTransport: false,
        fetch: (input, init) => fetch(retarget(input instanceof Request ? input.url : input), init),
        EventSource: class extends EventSource {
          constructor(url: string | URL, init?: EventSourceInit) {
            super(retarget(url), init);
          }
        },
      });
      cleanup.push(() => client.close());
      const feed = record(client, 'tick');
      const arrivals: { sentAt: number; at: number }[] = [];
      feed.sub.on('message', (data) => arrivals.push({ sentAt: (data as { at: number }).at, at: Date.now() }));
      await waitFor(() => expect(feed.sub.cursor).toBeDefined());
      expect(relay.server.connections).toBe(0);

      let publishing = true;
      let published = 0;
      const publisher = (async () => {
        while (publishing) {
          published++;
          await relay.server.publish('tick', { i: published, at: Date.now() });
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      await waitFor(() => expect(feed.messages.length).toBeGreaterThanOrEqual(10));

      ownerAlive = false;
      const killedAt = Date.now();
      await owner.kill();
      // Messages flow again: one published after the kill has arrived.
      await waitFor(() => expect(arrivals.some(({ sentAt }) => sentAt > killedAt)).toBe(true), 10_000);
      const flowingAgainAfter = arrivals.find(({ sentAt }) => sentAt > killedAt)!.at - killedAt;
      publishing = false;
      await publisher;

      await waitFor(() => expect(feed.messages).toHaveLength(published));
      expect(feed.data().map((data) => (data as { i: number }).i)).toEqual(range(1, published));
      expect(feed.gaps).toEqual([]);
      expect(relay.server.connections).toBe(1);
      expect(flowingAgainAfter).toBeLessThan(3000);
    },
  );
});
