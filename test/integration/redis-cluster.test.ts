// The Redis broker on a real 3-master Redis Cluster: live messages travel by sharded pub/sub on
// the channel's own shard, node-to-node messages know at once when nobody listens, and health
// turns degraded as soon as a shard cannot be reached.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/server/brokers/broker.js';
import { redisBroker } from '../../src/server/brokers/redis.js';
import { startRedisCluster, type RedisClusterProcess } from '../helpers/redis-cluster.js';
import { waitFor } from '../helpers/wait-for.js';

const run = promisify(execFile);
const cleanup: (() => unknown)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function cluster(): Promise<RedisClusterProcess> {
  const started = await startRedisCluster();
  cleanup.push(() => started.dispose());
  return started;
}

function broker(url: string): Broker {
  const made = redisBroker({ url, keyPrefix: 'cl:', reconnectDelay: () => 50, commandTimeout: 2000 });
  cleanup.push(() => made.close());
  return made;
}

/** The master (by index) that serves `key`'s slot. */
async function masterOf(redis: RedisClusterProcess, key: string): Promise<number> {
  const slot = Number((await run('redis-cli', ['-p', String(redis.ports[0]), 'CLUSTER', 'KEYSLOT', key])).stdout);
  const { stdout } = await run('redis-cli', ['-p', String(redis.ports[0]), '--json', 'CLUSTER', 'SLOTS']);
  const ranges = JSON.parse(stdout) as [number, number, [string, number]][];
  const owner = ranges.find(([from, to]) => slot >= from && slot <= to)!;
  return redis.ports.indexOf(owner[2][1]);
}

describe('redisBroker on a Redis Cluster', () => {
  it("subscribes to a channel's live messages on its own shard only (sharded pub/sub)", async () => {
    const redis = await cluster();
    const b = broker(redis.nodes[0]!);
    const names = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    for (const name of names) await b.subscribe(name, () => {});
    const channels = await redis.shardChannels();
    for (const name of names) {
      const live = `cl:{${name}}:live`;
      const home = await masterOf(redis, live);
      expect(channels.map((onMaster) => onMaster.includes(live))).toEqual([0, 1, 2].map((i) => i === home));
    }
    // The channels really are spread: every master holds some.
    expect(channels.every((onMaster) => onMaster.length > 0)).toBe(true);
  });

  it('tells a node-to-node sender at once whether anyone listens, on any shard', async () => {
    const redis = await cluster();
    const [a, b] = [broker(redis.url), broker(redis.url)];
    const got: string[] = [];
    const names = ['n-1', 'n-2', 'n-3', 'n-4', 'n-5', 'n-6'];
    for (const name of names) await a.bus!.listen(name, (message) => got.push(`${name}:${message}`));
    // Nodes on all three masters, so some messages cross shards.
    expect(new Set(await Promise.all(names.map((name) => masterOf(redis, `cl:node:${name}`)))).size).toBe(3);
    for (const name of names) expect(await b.bus!.send(name, 'hi')).toBe(true);
    await waitFor(() => expect(got.sort()).toEqual(names.map((name) => `${name}:hi`)));
    expect(await b.bus!.send('nobody', 'hi')).toBe(false);
  });

  it('comes back when a crashed shard returns: healthy again, and its channels deliver again', { timeout: 40_000 }, async () => {
    const redis = await cluster();
    const b = broker(redis.nodes[0]!);
    const names = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    const homes = await Promise.all(names.map((name) => masterOf(redis, `cl:{${name}}:live`)));
    const name = names[homes.indexOf(1)]!;
    const got: unknown[] = [];
    await b.subscribe(name, (message) => got.push(message.data));
    await b.publish(name, 'before');
    await waitFor(() => expect(got).toEqual(['before']));
    await redis.kill(1);
    await waitFor(() => expect(b.health().ok).toBe(false), 10_000);
    await redis.restart(1);
    await waitFor(() => expect(b.health()).toEqual({ ok: true }), 15_000);
    // The shard came back empty: a new epoch, which the listener follows.
    await waitFor(async () => expect((await b.publish(name, 'after')).seq).toBe(1), 10_000);
    await waitFor(() => expect(got).toEqual(['before', 'after']), 10_000);
  });

  it('reports degraded health when a shard is unreachable, naming it', async () => {
    const redis = await cluster();
    const b = broker(redis.nodes[2]!);
    for (const name of ['alpha', 'beta', 'gamma', 'delta']) await b.publish(name, 1);
    await waitFor(() => expect(b.health()).toEqual({ ok: true }));
    await redis.kill(1);
    await waitFor(() => expect(b.health()).toMatchObject({ ok: false, detail: expect.stringContaining(`${redis.ports[1]}`) }), 10_000);
  });
});
