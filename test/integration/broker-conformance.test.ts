// One suite, every broker: the semantics the hub relies on (PROTOCOL.md concepts, broker.ts).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Broker, StoredMessage } from '../../src/server/brokers/broker.js';
import { jsonPublishOf } from '../../src/server/brokers/json-publish.js';
import { memoryBroker } from '../../src/server/brokers/memory.js';
import { redisBroker } from '../../src/server/brokers/redis.js';
import { startRedis, type RedisProcess } from '../helpers/redis.js';
import { startRedisCluster, type RedisClusterProcess } from '../helpers/redis-cluster.js';
import { waitFor } from '../helpers/wait-for.js';

interface TrimOptions {
  historySize?: number;
  historyTtl?: number;
  dedupTtl?: number;
  now?: () => number;
}

let redis: RedisProcess | undefined;
let cluster: RedisClusterProcess | undefined;
let prefixes = 0;

const kinds: { name: string; make: (options: TrimOptions) => Broker }[] = [
  { name: 'memoryBroker', make: (options) => memoryBroker(options) },
  {
    name: 'redisBroker',
    // A fresh key prefix per broker keeps tests apart on the one shared redis-server.
    make: (options) => redisBroker({ url: redis!.url, keyPrefix: `conformance${++prefixes}:`, ...options }),
  },
  {
    // Given one node's address: the broker finds out that it is a cluster.
    name: 'redisBroker on a 3-master Redis Cluster',
    make: (options) => redisBroker({ url: cluster!.nodes[1]!, keyPrefix: `conformance${++prefixes}:`, ...options }),
  },
  {
    name: 'redisBroker on a Redis Cluster given as seed URLs',
    make: (options) => redisBroker({ url: cluster!.url, keyPrefix: `conformance${++prefixes}:`, ...options }),
  },
];

beforeAll(async () => {
  [redis, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
});

afterAll(async () => {
  await Promise.all([redis?.dispose(), cluster?.dispose()]);
});

describe.each(kinds)('$name', ({ make }) => {
  const open: Broker[] = [];
  let clock = 1_000_000;
  const now = () => clock;
  const broker = (options: TrimOptions = {}) => {
    const made = make({ now, ...options });
    open.push(made);
    return made;
  };
  const collect = async (target: Broker, channel: string) => {
    const got: StoredMessage[] = [];
    const stop = await target.subscribe(channel, (message) => got.push(message));
    return { got, stop, seqs: () => got.map((m) => m.seq) };
  };

  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
    clock = 1_000_000;
  });

  it('numbers each channel gaplessly from 1 within one stable epoch', async () => {
    const b = broker();
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await b.publish('a', { i }));
    const other = await b.publish('b', 'x');
    expect(results.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(results.every((r) => !r.duplicate)).toBe(true);
    expect(new Set(results.map((r) => r.epoch)).size).toBe(1);
    expect(other.seq).toBe(1);
    const read = await b.read('a', 0);
    expect(read.epoch).toBe(results[0]!.epoch);
    expect(read.head).toBe(3);
  });

  it('gives an empty channel an epoch that its first publish keeps', async () => {
    const b = broker();
    const empty = await b.read('fresh', 0);
    expect(empty).toMatchObject({ head: 0, first: 1, messages: [] });
    expect(empty.epoch.length).toBeGreaterThan(0);
    expect((await b.publish('fresh', 1)).epoch).toBe(empty.epoch);
  });

  it('reads exactly the messages after a seq, with their data intact', async () => {
    const b = broker();
    const payloads = [{ nested: { list: [1, 2] } }, 'text ünïcødé', null, 42, [true, false]];
    for (const data of payloads) await b.publish('r', data);
    const after2 = await b.read('r', 2);
    expect(after2.messages.map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(after2.messages.map((m) => m.data)).toEqual(payloads.slice(2));
    expect(after2.messages.every((m) => m.channel === 'r' && m.epoch === after2.epoch)).toBe(true);
    expect(after2).toMatchObject({ head: 5, first: 1 });
    expect((await b.read('r', 5)).messages).toEqual([]);
    expect((await b.read('r', Number.MAX_SAFE_INTEGER)).messages).toEqual([]);
    expect((await b.read('r', 0)).messages.map((m) => m.data)).toEqual(payloads);
  });

  it('publishes JSON text (the server shortcut) into the same log and dedup as publish', async () => {
    const b = broker();
    const json = jsonPublishOf(b);
    if (!json) throw new Error('every bundled broker registers a JSON publish');
    const first = await json('j', '{"nested":{"list":[1,2]},"text":"ünï"}', 'one');
    const second = await b.publish('j', 'plain');
    expect([first.seq, second.seq]).toEqual([1, 2]);
    expect(await json('j', '"again"', 'one')).toEqual({ ...first, duplicate: true });
    expect(await b.publish('j', 'again', 'one')).toEqual({ ...first, duplicate: true });
    const read = await b.read('j', 0);
    expect(read.messages.map((m) => m.data)).toEqual([{ nested: { list: [1, 2] }, text: 'ünï' }, 'plain']);
  });

  it('trims history to historySize', async () => {
    const b = broker({ historySize: 3 });
    for (let i = 1; i <= 5; i++) await b.publish('s', i);
    const read = await b.read('s', 0);
    expect(read.messages.map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(read).toMatchObject({ head: 5, first: 3 });
  });

  it('trims history older than historyTtl', async () => {
    const b = broker({ historyTtl: 1000 });
    await b.publish('t', 1);
    await b.publish('t', 2);
    clock += 600;
    await b.publish('t', 3);
    clock += 900; // the first two are 1500 ms old, the third 900 ms
    const partly = await b.read('t', 0);
    expect(partly.messages.map((m) => m.seq)).toEqual([3]);
    expect(partly).toMatchObject({ head: 3, first: 3 });
    clock += 200;
    const none = await b.read('t', 0);
    expect(none).toMatchObject({ head: 3, first: 4, messages: [] });
    expect((await b.publish('t', 4)).seq).toBe(4);
  });

  it('answers a repeated publish id with the original result and publishes nothing', async () => {
    const b = broker();
    const first = await b.publish('d', 'original', 'id-1');
    const again = await b.publish('d', 'changed', 'id-1');
    expect(again).toEqual({ epoch: first.epoch, seq: first.seq, duplicate: true });
    expect((await b.read('d', 0)).messages.map((m) => m.data)).toEqual(['original']);
    // Ids are per channel, and publishes without an id are never deduplicated.
    expect((await b.publish('other', 'x', 'id-1')).duplicate).toBe(false);
    expect((await b.publish('d', 'no id')).seq).toBe(2);
    expect((await b.publish('d', 'no id')).seq).toBe(3);
  });

  it('keeps channels apart whatever their names and ids contain', async () => {
    const b = broker();
    await b.publish('a', 'in a', 'x}:meta');
    await b.publish('a', 'in a', 'x}:log');
    expect(await b.publish('a}:id:x', 'in the other', 'x')).toMatchObject({ seq: 1, duplicate: false });
    expect((await b.read('a}:id:x', 0)).messages.map((m) => m.data)).toEqual(['in the other']);
    expect((await b.read('a', 0)).messages).toHaveLength(2);
    for (const name of ['{b}', 'b%7D', 'b}', '%', 'ünï cøde']) expect((await b.publish(name, name)).seq).toBe(1);
  });

  it('forgets publish ids after dedupTtl', async () => {
    const b = broker({ dedupTtl: 1000 });
    await b.publish('e', 'first', 'same');
    clock += 999;
    expect((await b.publish('e', 'inside', 'same')).duplicate).toBe(true);
    clock += 1002;
    expect(await b.publish('e', 'outside', 'same')).toMatchObject({ seq: 2, duplicate: false });
  });

  it('tells a subscriber every later message, in order', async () => {
    const b = broker();
    await b.publish('live', 'before');
    const sub = await collect(b, 'live');
    for (let i = 0; i < 5; i++) await b.publish('live', i);
    await waitFor(() => expect(sub.seqs()).toEqual([2, 3, 4, 5, 6]));
    expect(sub.got.map((m) => m.data)).toEqual([0, 1, 2, 3, 4]);
    expect(sub.got.every((m) => m.channel === 'live')).toBe(true);
  });

  it('stops telling a listener once it unsubscribed, and keeps telling the others', async () => {
    const b = broker();
    const leaving = await collect(b, 'u');
    const staying = await collect(b, 'u');
    await b.publish('u', 1);
    await waitFor(() => expect(leaving.seqs()).toEqual([1]));
    leaving.stop();
    await b.publish('u', 2);
    await waitFor(() => expect(staying.seqs()).toEqual([1, 2]));
    expect(leaving.seqs()).toEqual([1]);
    staying.stop();
    // With no listener left, a new one still starts cleanly.
    const later = await collect(b, 'u');
    await b.publish('u', 3);
    await waitFor(() => expect(later.seqs()).toEqual([3]));
  });

  it('serves channels on every shard', async () => {
    const b = broker();
    // Forty channels spread over the slots of all three masters of a cluster.
    const names = Array.from({ length: 40 }, (_, i) => `spread-${i}`);
    const subs = await Promise.all(names.map((name) => collect(b, name)));
    for (const name of names) expect(await b.publish(name, name)).toMatchObject({ seq: 1, duplicate: false });
    await waitFor(() => expect(subs.map((sub) => sub.got.map((m) => m.data))).toEqual(names.map((name) => [name])));
    expect(b.health()).toEqual({ ok: true });
  });

  it('keeps concurrent publishes gapless and delivers them in seq order', async () => {
    const b = broker();
    const sub = await collect(b, 'c');
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => b.publish('c', i, `c-${i}`)));
    const seqs = results.map((r) => r.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await waitFor(() => expect(sub.got).toHaveLength(50));
    expect(sub.seqs()).toEqual(seqs);
    // Each message's data is the one its publish was acknowledged for.
    for (const result of results) {
      const message = sub.got[result.seq - 1]!;
      expect(results[message.data as number]!.seq).toBe(result.seq);
    }
  });

  // A read proves the command path, a subscribe the fan-out path; the Redis broker has one
  // connection for each, and the second may still be connecting after the first call.
  it('reports itself healthy once it has served a read and a subscribe', async () => {
    const b = broker();
    await b.read('h', 0);
    const off = await b.subscribe('h', () => {});
    expect(b.health()).toEqual({ ok: true });
    off();
  });
});
