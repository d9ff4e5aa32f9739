// SSE and long polling over many nodes with no sticky sessions: a round-robin "load balancer"
// sends every HTTP request of a connection (connect, stream or poll, send) to the next node, and
// the nodes relay each request to the node that holds the connection over Redis.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../src/index.js';
import { range, record, sharedRedisKinds, startNode, startSpreadNodes, type Node, type SharedRedis } from '../helpers/multi-node.js';
import { startRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanup: (() => unknown)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const startHttpNode = (redis: SharedRedis) => startNode(redis, 'http:', (kill) => cleanup.push(kill));

/** A round-robin load balancer: each request (a fetch, an EventSource) goes to the next live node. */
function balancer(nodes: Node[]) {
  let next = 0;
  const retarget = (url: string | URL) => {
    const live = nodes.filter((node) => node.alive);
    const target = new URL(String(url));
    target.port = String(live[next++ % live.length]!.port);
    return target;
  };
  const fetchVia: typeof fetch = (input, init) => fetch(retarget(input instanceof Request ? input.url : input), init);
  const EventSourceVia = class extends EventSource {
    constructor(url: string | URL, init?: EventSourceInit) {
      super(retarget(url), init);
    }
  };
  return { fetch: fetchVia, EventSource: EventSourceVia };
}

function connect(nodes: Node[], transport: 'sse' | 'longpoll'): Client {
  const client = createClient(`http://127.0.0.1:${nodes[0]!.port}/rt`, {
    transports: [transport],
    rememberTransport: false,
    reconnect: { initialDelay: 50, maxDelay: 200 },
    ...balancer(nodes),
  });
  cleanup.push(() => client.close());
  return client;
}

describe.each(sharedRedisKinds)('over $name', ({ start }) => {
  async function twoNodes() {
    const redis = await start();
    cleanup.push(() => redis.dispose());
    const [a, b] = await startSpreadNodes(redis, 2, () => startHttpNode(redis));
    return [a!, b!] as const;
  }

  describe.each(['sse', 'longpoll'] as const)('%s through a round-robin balancer over two nodes', (transport) => {
    it('serves every request of one connection on either node: messages from both nodes and the client, exactly once, in order', {
      timeout: 30_000,
    }, async () => {
      const nodes = await twoNodes();
      const client = connect([...nodes], transport);
      const states: string[] = [];
      client.on('state', ({ to }) => states.push(to));
      const feed = record(client, 'room');
      await waitFor(() => expect(feed.sub.cursor).toBeDefined());

      for (let i = 1; i <= 100; i++) await nodes[i % 2]!.server.publish('room', i);
      const acks = [];
      for (let i = 101; i <= 110; i++) acks.push(await client.publish('room', i));

      await waitFor(() => expect(feed.messages).toHaveLength(110));
      expect(feed.data()).toEqual(range(1, 110));
      expect(feed.seqs()).toEqual(range(1, 110));
      expect(acks.map((ack) => ack.seq)).toEqual(range(101, 110));
      expect(feed.gaps).toEqual([]);
      // One connection all along, held by one node, while both nodes answered its requests.
      expect(states).not.toContain('reconnecting');
      expect(nodes.map((node) => node.server.connections).sort()).toEqual([0, 1]);
      const stream = transport === 'sse' ? '/rt/sse' : '/rt/poll';
      for (const node of nodes) expect(node.requests.filter((path) => path === stream || path === '/rt/send').length).toBeGreaterThan(0);
    });

    it('a resume replaying 6 MB arrives whole and once while live messages flow, through either node', { timeout: 30_000 }, async () => {
      const nodes = await twoNodes();
      let epoch = '';
      for (let i = 1; i <= 100; i++) epoch = (await nodes[0]!.server.publish('big', `${i}:${'x'.repeat(60_000)}`)).epoch;
      const client = connect([...nodes], transport);
      const errors: unknown[] = [];
      client.on('error', (error) => errors.push(error));
      const seqs: number[] = [];
      client.subscribe('big', { since: { epoch, seq: 0 } }).on('message', (_data, { seq }) => seqs.push(seq));
      // Live messages from both nodes every 10 ms while the replay drains (at most 3 s of them).
      let last = 100;
      for (let n = 0; n < 300 && seqs.length < 100; n++) {
        last = (await nodes[n % 2]!.server.publish('big', n)).seq;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await waitFor(() => expect(seqs).toHaveLength(last));
      expect(seqs).toEqual(range(1, last));
      expect(errors).toEqual([]);
    });

    it.each([false, true])(
      'resumes through the other node when the node holding the connection is killed mid-stream (Redis links cut first: %s)',
      { timeout: 40_000 },
      async (hard) => {
        const nodes = await twoNodes();
        const client = connect([...nodes], transport);
        const states: string[] = [];
        client.on('state', ({ to }) => states.push(to));
        const feed = record(client, 'stream');
        await waitFor(() => expect(feed.sub.cursor).toBeDefined());
        const owner = nodes.find((node) => node.server.connections === 1)!;
        const survivor = nodes.find((node) => node !== owner)!;

        const total = 200;
        const publishing = (async () => {
          for (let i = 1; i <= total; i++) {
            await survivor.server.publish('stream', { i });
            if (i % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
          }
        })();
        await waitFor(() => expect(feed.messages.length).toBeGreaterThanOrEqual(40));
        // Counted before the kill: while it runs the client may already reconnect and catch up.
        const deliveredBeforeKill = feed.messages.length;
        await owner.kill(hard);
        const published = Promise.all(range(1, 10).map((i) => client.publish('outbound', i)));
        await publishing;

        await waitFor(() => expect(feed.messages).toHaveLength(total));
        expect(feed.seqs()).toEqual(range(1, total));
        expect(feed.data()).toEqual(range(1, total).map((i) => ({ i })));
        expect(feed.gaps).toEqual([]);
        expect(deliveredBeforeKill).toBeLessThan(total);
        expect(states).toContain('reconnecting');
        expect(survivor.server.connections).toBe(1);
        const acks = await published;
        expect(acks.map((ack) => ack.seq).sort((x, y) => x - y)).toEqual(range(1, 10));
      },
    );
  });
});

describe('a relayed SSE stream', () => {
  it("an owner whose relayed stream went away closes the connection even when the relay's close was lost", {
    timeout: 30_000,
  }, async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.dispose());
    let dropped = 0;
    const owner = await startHttpNode(redis);
    // The relaying node's first `close` to the owner is lost, as in a Redis blip.
    const relay = await startNode(
      redis,
      'http:',
      (kill) => cleanup.push(kill),
      {},
      (broker) => ({
        ...broker,
        bus: {
          ...broker.bus!,
          send: (node, message) =>
            message.includes('"t":"close"') && dropped++ === 0 ? Promise.resolve(true) : broker.bus!.send(node, message),
        },
      }),
    );
    // The balancer sends /connect to the owner and the stream to the relay.
    const client = connect([owner, relay], 'sse');
    const feed = record(client, 'lost-close');
    await waitFor(() => expect(feed.sub.cursor).toBeDefined());
    expect(relay.requests).toContain('/rt/sse');
    expect(owner.server.connections).toBe(1);
    client.close();
    await waitFor(() => expect(dropped).toBe(1));
    // The owner's next write reaches a node that no longer holds the stream, which says so again.
    await owner.server.publish('lost-close', 'anyone?');
    await waitFor(() => expect(owner.server.connections).toBe(0), 5000);
  });

  it('a relay carries the connection key to the owner, which refuses a request without it', async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.dispose());
    const [owner, relay] = [await startHttpNode(redis), await startHttpNode(redis)];
    const connected = await fetch(`${owner.url}/connect`, { method: 'POST', body: '{"v":1,"transport":"longpoll"}' });
    const { cid, key } = (await connected.json()) as { cid: string; key: string };
    const send = (headers: Record<string, string>) =>
      fetch(`${relay.url}/send?cid=${encodeURIComponent(cid)}`, { method: 'POST', headers, body: '[{"type":"ping"}]' });
    expect((await send({})).status).toBe(404);
    expect((await send({ Authorization: 'Bearer not-the-key' })).status).toBe(404);
    expect((await send({ Authorization: `Bearer ${key}` })).status).toBe(204);
  });
});
