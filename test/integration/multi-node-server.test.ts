// Several reference-server nodes over one Redis, with the real client: publishes through any
// node reach every node; a client whose node dies resumes through another with every message
// exactly once; Redis going away degrades health without dropping clients, and on return the
// stream either continues (data kept) or starts a new epoch that the client sees as a gap.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../src/index.js';
import { range, record, sharedRedisKinds, startNode, startSpreadNodes, type Node, type SharedRedis } from '../helpers/multi-node.js';
import { startRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait-for.js';

const API_KEY = 'multi-node-key';
const cleanup: (() => unknown)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const startKeyedNode = (redis: SharedRedis, keyPrefix: string) =>
  startNode(redis, keyPrefix, (kill) => cleanup.push(kill), { apiKey: API_KEY });

async function redisFor(persistent = false) {
  const redis = await startRedis({ persistent });
  cleanup.push(() => redis.dispose());
  return redis;
}

/**
 * A WebSocket class that connects to whichever node `pick()` names, whatever URL the client
 * was given: a stand-in for a load balancer in front of the nodes.
 */
function balancedWebSocket(pick: () => Node): typeof WebSocket {
  return class extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      const target = new URL(String(url));
      target.port = String(pick().port);
      super(target, protocols);
    }
  };
}

function connect(url: string, pick?: () => Node): Client {
  const client = createClient(url, {
    transports: ['websocket'],
    rememberTransport: false,
    reconnect: { initialDelay: 50, maxDelay: 200 },
    ...(pick ? { WebSocket: balancedWebSocket(pick) } : {}),
  });
  cleanup.push(() => client.close());
  return client;
}

const publishOver = (node: Node, channel: string, data: unknown) =>
  fetch(`${node.url}/publish`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ channel, data }),
  });

const health = async (node: Node) =>
  (await fetch(`${node.url}/health`)).json() as Promise<{ status: string; connections: number; broker: { ok: boolean; detail?: string } }>;

describe.each(sharedRedisKinds)('many nodes over $name', ({ start }) => {
  const shared = async () => {
    const redis = await start();
    cleanup.push(() => redis.dispose());
    return redis;
  };

  it('delivers publishes made through any node to clients on every node, in one order', async () => {
    const redis = await shared();
    const nodes = await startSpreadNodes(redis, 3, () => startKeyedNode(redis, 'fan:'));
    const clients = nodes.map((node) => connect(node.url));
    const subs = clients.map((client) => record(client, 'room'));
    await waitFor(() => expect(subs.every(({ sub }) => sub.cursor !== undefined)).toBe(true));

    expect((await publishOver(nodes[0]!, 'room', 'http via node 0')).status).toBe(200);
    await nodes[1]!.server.publish('room', 'in-process on node 1');
    await clients[2]!.publish('room', 'client on node 2');
    await clients[0]!.publish('room', 'client on node 0');

    const expected = ['http via node 0', 'in-process on node 1', 'client on node 2', 'client on node 0'];
    for (const sub of subs) {
      await waitFor(() => expect(sub.data()).toEqual(expected));
      expect(sub.seqs()).toEqual([1, 2, 3, 4]);
    }
    expect(new Set(subs.flatMap((s) => s.messages.map(([, meta]) => meta.epoch))).size).toBe(1);
  });

  it('resumes a client whose node was killed mid-stream through another node, exactly once and in order', async () => {
    const redis = await shared();
    const [a, b, c] = (await startSpreadNodes(redis, 3, () => startKeyedNode(redis, 'kill:'))) as [Node, Node, Node];
    let target = a;
    const client = connect(a.url, () => target);
    const feed = record(client, 'stream');
    const states: string[] = [];
    client.on('state', ({ to }) => states.push(to));
    await waitFor(() => expect(feed.sub.cursor).toBeDefined());
    expect(a.server.connections).toBe(1);

    // Node B publishes 300 messages without pause except a turn of the event loop now and then,
    // so the kill lands while messages are in flight.
    const total = 300;
    const publishing = (async () => {
      for (let i = 1; i <= total; i++) {
        await b.server.publish('stream', { i });
        if (i % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await waitFor(() => expect(feed.messages.length).toBeGreaterThanOrEqual(60));
    target = c;
    // Counted before the kill: while it runs the client may already reconnect and catch up.
    const deliveredBeforeKill = feed.messages.length;
    await a.kill();
    // The client's own publishes around the kill: each must land in the log exactly once.
    const published = Promise.all(range(1, 20).map((i) => client.publish('outbound', i)));
    await publishing;

    await waitFor(() => expect(feed.messages).toHaveLength(total));
    expect(feed.seqs()).toEqual(range(1, total));
    expect(feed.data()).toEqual(range(1, total).map((i) => ({ i })));
    expect(feed.gaps).toEqual([]);
    // It really was mid-stream, and the client really went through a reconnect to node C.
    expect(deliveredBeforeKill).toBeLessThan(total);
    expect(states).toContain('reconnecting');
    expect(c.server.connections).toBe(1);

    const acks = await published;
    expect(acks.map((ack) => ack.seq).sort((x, y) => x - y)).toEqual(range(1, 20));
    const log = await b.broker.read('outbound', 0);
    expect(log.messages.map((m) => m.data).sort((x, y) => (x as number) - (y as number))).toEqual(range(1, 20));
  });
});

describe('Redis restarting under running nodes', () => {
  async function outage(persistent: boolean) {
    const redis = await redisFor(persistent);
    const [a, b] = [await startKeyedNode(redis, 'outage:'), await startKeyedNode(redis, 'outage:')];
    const client = connect(a.url);
    const feed = record(client, 'ch');
    await waitFor(() => expect(feed.sub.cursor).toBeDefined());
    for (let i = 1; i <= 5; i++) await b.server.publish('ch', i);
    await waitFor(() => expect(feed.seqs()).toEqual(range(1, 5)));
    expect(await health(a)).toMatchObject({ status: 'ok', connections: 1, broker: { ok: true } });

    await redis.stop();
    await waitFor(async () => expect(await health(a)).toMatchObject({ status: 'degraded', broker: { ok: false } }));
    expect((await health(b)).status).toBe('degraded');
    const refused = await publishOver(b, 'ch', 'lost?');
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: { code: 'BROKER_UNAVAILABLE' } });
    // The nodes keep their clients through the outage.
    expect(client.state).toBe('open');
    expect(a.server.connections).toBe(1);

    await redis.start();
    await waitFor(async () => expect(await health(a)).toMatchObject({ status: 'ok', connections: 1, broker: { ok: true } }));
    await waitFor(async () => expect((await health(b)).status).toBe('ok'));
    return { a, b, client, feed };
  }

  it('keeps the log when Redis keeps its data: the client goes on with no gap', async () => {
    const { b, client, feed } = await outage(true);
    for (let i = 6; i <= 10; i++) await b.server.publish('ch', i);
    expect((await client.publish('ch', 11)).seq).toBe(11);
    await waitFor(() => expect(feed.data()).toEqual(range(1, 11)));
    expect(feed.seqs()).toEqual(range(1, 11));
    expect(new Set(feed.messages.map(([, meta]) => meta.epoch)).size).toBe(1);
    expect(feed.gaps).toEqual([]);
  });

  it('signals a gap when Redis lost its data, then delivers the new epoch from seq 1', async () => {
    const { b, feed } = await outage(false);
    const oldEpoch = feed.messages[0]![1].epoch;
    await b.server.publish('ch', 'after');
    await b.server.publish('ch', 'after 2');
    await waitFor(() => expect(feed.data()).toEqual([1, 2, 3, 4, 5, 'after', 'after 2']));
    expect(feed.gaps).toHaveLength(1);
    expect(feed.gaps[0]).toMatchObject({ channel: 'ch', reason: 'epoch', from: { epoch: oldEpoch, seq: 5 }, seq: 0 });
    const newEpoch = feed.gaps[0]!.epoch;
    expect(newEpoch).not.toBe(oldEpoch);
    expect(feed.messages.slice(5).map(([, meta]) => [meta.epoch, meta.seq])).toEqual([
      [newEpoch, 1],
      [newEpoch, 2],
    ]);
  });

  it('restarted (keeping its data) while a stream flows: every accepted message arrives once, in order, with no gap', async () => {
    const redis = await redisFor(true);
    const [a, b] = [await startKeyedNode(redis, 'flow:'), await startKeyedNode(redis, 'flow:')];
    const client = connect(a.url);
    const feed = record(client, 'flow');
    await waitFor(() => expect(feed.sub.cursor).toBeDefined());

    // Node B publishes 1..total one after another; a publish refused during the outage is
    // retried with the same id, so one whose reply was lost but which landed is not doubled.
    const total = 200;
    let accepted = 0;
    let refusals = 0;
    const publishing = (async () => {
      for (let i = 1; i <= total; i++) {
        for (;;) {
          try {
            await b.server.publish('flow', i, `flow-${i}`);
            accepted = i;
            break;
          } catch {
            refusals++;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      }
    })();
    await waitFor(() => expect(accepted).toBeGreaterThanOrEqual(50));
    await redis.stop();
    const acceptedBeforeRestart = accepted;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await redis.start();
    await publishing;

    await waitFor(() => expect(feed.messages).toHaveLength(total));
    expect(feed.data()).toEqual(range(1, total));
    expect(feed.seqs()).toEqual(range(1, total));
    expect(feed.gaps).toEqual([]);
    // It really was mid-stream: publishes were refused while Redis was away, and the client
    // stayed on its node throughout.
    expect(acceptedBeforeRestart).toBeLessThan(total);
    expect(refusals).toBeGreaterThan(0);
    expect(a.server.connections).toBe(1);
  });
});
