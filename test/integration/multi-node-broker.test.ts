// The Redis broker as several nodes see it: shared seqs, epochs and dedup, fan-out across
// nodes, and what happens when a node's connection or Redis itself goes away.
import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Broker, StoredMessage } from '../../src/server/brokers/broker.js';
import { redisBroker, type RedisBrokerOptions } from '../../src/server/brokers/redis.js';
import { startRedis, type RedisProcess } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait-for.js';

const open: Broker[] = [];
let prefix = 0;

/** A node: its own broker on the shared Redis, retrying fast so tests stay short. */
const node = (redis: RedisProcess, keyPrefix: string, options: Partial<RedisBrokerOptions> = {}) => {
  const made = redisBroker({ url: redis.url, keyPrefix, reconnectDelay: () => 50, commandTimeout: 2000, ...options });
  open.push(made);
  return made;
};

const listen = async (broker: Broker, channel: string) => {
  const got: StoredMessage[] = [];
  await broker.subscribe(channel, (message) => got.push(message));
  return got;
};

/**
 * A TCP relay to Redis whose current connections can be blackholed: bytes are swallowed and
 * nothing is closed, like a network partition. Connections made afterwards pass again.
 */
async function partitionableRelay(port: number) {
  const pairs = new Set<{ blackholed: boolean; sockets: Socket[] }>();
  const server: Server = createServer((downstream) => {
    const upstream = connectTcp(port, '127.0.0.1');
    const pair = { blackholed: false, sockets: [downstream, upstream] };
    pairs.add(pair);
    downstream.on('data', (chunk) => pair.blackholed || upstream.write(chunk));
    upstream.on('data', (chunk) => pair.blackholed || downstream.write(chunk));
    for (const socket of pair.sockets) {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        pairs.delete(pair);
        for (const other of pair.sockets) other.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`,
    partition: () => pairs.forEach((pair) => (pair.blackholed = true)),
    close: () => {
      for (const pair of pairs) for (const socket of pair.sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const seqs = (got: StoredMessage[]) => got.map((m) => m.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
});

describe('redisBroker across nodes', () => {
  let redis: RedisProcess;
  let keys: string;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.dispose();
  });
  const fresh = () => (keys = `nodes${++prefix}:`);

  it('shares one gapless log and one epoch between nodes, and fans out to all of them', async () => {
    fresh();
    const [a, b, c] = [node(redis, keys), node(redis, keys), node(redis, keys)];
    const onA = await listen(a, 'news');
    const onC = await listen(c, 'news');
    const results = [];
    for (let i = 0; i < 9; i++) results.push(await [a, b, c][i % 3]!.publish('news', { i }));
    expect(results.map((r) => r.seq)).toEqual(range(1, 9));
    expect(new Set(results.map((r) => r.epoch)).size).toBe(1);
    await waitFor(() => expect(seqs(onA)).toEqual(range(1, 9)));
    await waitFor(() => expect(seqs(onC)).toEqual(range(1, 9)));
    expect(onC.map((m) => m.data)).toEqual(range(0, 8).map((i) => ({ i })));
  });

  it('keeps seqs gapless under concurrent publishes from several nodes', async () => {
    fresh();
    const nodes = [node(redis, keys), node(redis, keys), node(redis, keys)];
    const got = await listen(nodes[0]!, 'busy');
    const results = await Promise.all(range(0, 89).map((i) => nodes[i % 3]!.publish('busy', i)));
    expect(results.map((r) => r.seq).sort((x, y) => x - y)).toEqual(range(1, 90));
    await waitFor(() => expect(seqs(got)).toEqual(range(1, 90)));
  });

  it('reading a channel never published to leaves only a key that expires; the first publish keeps it for good', async () => {
    const a = node(redis, 'ttl:');
    const admin = new Redis(redis.url);
    try {
      await a.read('asked-about', 0);
      expect(await admin.pttl('ttl:{asked-about}:meta')).toBeGreaterThan(0);
      await a.publish('asked-about', 1);
      expect(await admin.pttl('ttl:{asked-about}:meta')).toBe(-1);
    } finally {
      admin.disconnect();
    }
  });

  it('deduplicates a publish id repeated through another node', async () => {
    fresh();
    const [a, b] = [node(redis, keys), node(redis, keys)];
    const first = await a.publish('d', 'once', 'client-1:7');
    expect(await b.publish('d', 'once', 'client-1:7')).toEqual({ ...first, duplicate: true });
    expect((await b.read('d', 0)).messages).toHaveLength(1);
  });

  it('keeps the epoch and the seq when a node restarts', async () => {
    fresh();
    const before = node(redis, keys);
    const first = await before.publish('keep', 1);
    await before.close();
    const after = node(redis, keys);
    const second = await after.publish('keep', 2);
    expect(second).toEqual({ epoch: first.epoch, seq: 2, duplicate: false });
    expect((await after.read('keep', 0)).messages.map((m) => m.data)).toEqual([1, 2]);
  });

  it('catches a node up from the stream when its pub/sub connection drops', async () => {
    fresh();
    const [a, b] = [node(redis, keys), node(redis, keys)];
    const got = await listen(a, 'repair');
    await b.publish('repair', 0);
    await waitFor(() => expect(seqs(got)).toEqual([1]));
    // Drop every pub/sub connection, then publish while node A's subscriber is reconnecting:
    // pub/sub alone would lose these.
    const admin = new Redis(redis.url);
    try {
      await admin.client('KILL', 'TYPE', 'PUBSUB');
    } finally {
      admin.disconnect();
    }
    for (let i = 1; i < 30; i++) await b.publish('repair', i);
    await waitFor(() => expect(seqs(got)).toEqual(range(1, 30)), 5000);
    expect(got.map((m) => m.data)).toEqual(range(0, 29));
    await b.publish('repair', 30);
    await waitFor(() => expect(seqs(got)).toEqual(range(1, 31)));
  });

  it('moves a channel to a new epoch when Redis rolled back writes a node had already delivered', async () => {
    fresh();
    const [a, b] = [node(redis, keys), node(redis, keys)];
    const got = await listen(a, 'rb');
    for (let i = 1; i <= 3; i++) await b.publish('rb', i);
    await waitFor(() => expect(seqs(got)).toEqual([1, 2, 3]));
    const epoch = got[0]!.epoch;
    // What a crash between fsyncs or a failover to a lagging replica leaves: seq 3 forgotten,
    // then handed out again for other data, all while node A is reconnecting.
    const admin = new Redis(redis.url);
    try {
      await admin.hset(`${keys}{rb}:meta`, 'seq', 2);
      await admin.xdel(`${keys}{rb}:log`, '3-0');
      await admin.call('XSETID', `${keys}{rb}:log`, '2-0');
      await admin.client('KILL', 'TYPE', 'PUBSUB');
    } finally {
      admin.disconnect();
    }
    const reused = await b.publish('rb', 'reused 3');
    expect(reused).toMatchObject({ epoch, seq: 3 });
    // Node A resets the channel: the next publish opens a new epoch, which A passes on.
    await waitFor(async () => expect((await b.read('rb', 0)).epoch).not.toBe(epoch), 5000);
    const next = await b.publish('rb', 'next');
    expect(next.seq).toBe(1);
    await waitFor(() => expect(got.at(-1)).toMatchObject({ epoch: next.epoch, seq: 1, data: 'next' }));
    expect(got.filter((m) => m.data === 'reused 3')).toEqual([]);
  });

  it('notices a silently dead link by its pings, reconnects and catches up', async () => {
    fresh();
    const relay = await partitionableRelay(redis.port);
    try {
      const a = redisBroker({ url: relay.url, keyPrefix: keys, pingInterval: 200, commandTimeout: 1000, reconnectDelay: () => 50 });
      open.push(a);
      const b = node(redis, keys);
      const got = await listen(a, 'silent');
      await b.publish('silent', 1);
      await waitFor(() => expect(seqs(got)).toEqual([1]));
      relay.partition();
      for (let i = 2; i <= 5; i++) await b.publish('silent', i);
      await waitFor(() => expect(a.health()).toMatchObject({ ok: false, detail: expect.stringMatching(/ping unanswered/) }), 15_000, 5);
      await waitFor(() => expect(seqs(got)).toEqual(range(1, 5)));
      await waitFor(() => expect(a.health()).toEqual({ ok: true }));
    } finally {
      await relay.close();
    }
  });

  it('refuses calls at once with BROKER_UNAVAILABLE while Redis is down, and reports it in health', async () => {
    const own = await startRedis();
    try {
      const a = node(own, 'down:');
      await a.publish('x', 1);
      // The node-to-node bus has its own subscriber connection, which may still be connecting.
      await waitFor(() => expect(a.health()).toEqual({ ok: true }));
      await own.stop();
      await waitFor(() => expect(a.health().ok).toBe(false));
      expect(a.health().detail).toMatch(/Redis/);
      const started = Date.now();
      await expect(a.publish('x', 2)).rejects.toMatchObject({ code: 'BROKER_UNAVAILABLE', name: 'RedisBrokerError' });
      await expect(a.read('x', 0)).rejects.toMatchObject({ code: 'BROKER_UNAVAILABLE' });
      await expect(a.subscribe('x', () => undefined)).rejects.toMatchObject({ code: 'BROKER_UNAVAILABLE' });
      // Waiting instead of failing fast would take commandTimeout (2 s) for each of the three.
      expect(Date.now() - started).toBeLessThan(2000);
      await own.start();
      await waitFor(() => expect(a.health()).toEqual({ ok: true }), 5000);
    } finally {
      await own.dispose();
    }
  });
});

describe('redisBroker when Redis restarts', () => {
  it('starts a new epoch when Redis lost its data, and live listeners move to it', async () => {
    const redis = await startRedis({ persistent: false });
    try {
      const [a, b] = [node(redis, 'lost:'), node(redis, 'lost:')];
      const got = await listen(a, 'ch');
      const old = await b.publish('ch', 'old');
      await waitFor(() => expect(got).toHaveLength(1));
      await redis.stop();
      await redis.start();
      await waitFor(() => expect(a.health().ok && b.health().ok).toBe(true), 5000);
      const next = await b.publish('ch', 'new');
      expect(next.epoch).not.toBe(old.epoch);
      expect(next.seq).toBe(1);
      await waitFor(() =>
        expect(got.map((m) => [m.epoch, m.seq, m.data])).toEqual([
          [old.epoch, 1, 'old'],
          [next.epoch, 1, 'new'],
        ]),
      );
    } finally {
      await redis.dispose();
    }
  });

  it('keeps the epoch when Redis keeps its data, and catches listeners up exactly once', async () => {
    const redis = await startRedis({ persistent: true });
    try {
      const [a, b] = [node(redis, 'kept:'), node(redis, 'kept:')];
      const got = await listen(a, 'ch');
      for (let i = 1; i <= 3; i++) await b.publish('ch', i);
      await waitFor(() => expect(seqs(got)).toEqual([1, 2, 3]));
      await redis.stop();
      await redis.start();
      // Publish through a node that was not there before, as soon as Redis answers, so that some
      // messages may land before node A has subscribed again; catch-up must fill them in.
      const c = node(redis, 'kept:');
      const results = [];
      for (let i = 4; i <= 10; i++) results.push(await c.publish('ch', i));
      expect(results.map((r) => r.seq)).toEqual(range(4, 10));
      expect(new Set([...results.map((r) => r.epoch), got[0]!.epoch]).size).toBe(1);
      await waitFor(() => expect(seqs(got)).toEqual(range(1, 10)), 5000);
      expect(got.map((m) => m.data)).toEqual(range(1, 10));
    } finally {
      await redis.dispose();
    }
  });
});
