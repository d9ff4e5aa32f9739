// The memory broker's memory stays within its options whatever is published: history bytes per
// channel and in total, and the number of channels, each evicting the oldest first, without
// ever handing out a seq twice for one channel in one epoch.
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/server/brokers/broker.js';
import { memoryBroker, type MemoryBrokerOptions } from '../../src/server/brokers/memory.js';

const open: Broker[] = [];
const make = (options: MemoryBrokerOptions) => {
  const broker = memoryBroker(options);
  open.push(broker);
  return broker;
};
afterEach(async () => {
  for (const broker of open.splice(0)) await broker.close();
});

/** A string whose JSON is `bytes` bytes long. */
const ofBytes = (bytes: number) => 'x'.repeat(bytes - 2);
const seqs = async (broker: Broker, channel: string) => (await broker.read(channel, 0)).messages.map((m) => m.seq);

describe('memoryBroker budgets', () => {
  it('maxHistoryBytes: keeps the newest messages that fit per channel', async () => {
    const broker = make({ maxHistoryBytes: 350 });
    for (let i = 0; i < 10; i++) await broker.publish('a', ofBytes(100));
    expect(await seqs(broker, 'a')).toEqual([8, 9, 10]);
    expect(await broker.read('a', 0)).toMatchObject({ head: 10, first: 8 });
  });

  it('maxTotalHistoryBytes: drops the oldest messages of any channel first', async () => {
    const broker = make({ maxTotalHistoryBytes: 500 });
    for (let i = 0; i < 3; i++) await broker.publish('a', ofBytes(100));
    for (let i = 0; i < 3; i++) await broker.publish('b', ofBytes(100));
    // 600 bytes: a's first goes.
    expect(await seqs(broker, 'a')).toEqual([2, 3]);
    expect(await seqs(broker, 'b')).toEqual([1, 2, 3]);
    await broker.publish('b', ofBytes(300));
    expect(await seqs(broker, 'a')).toEqual([]);
    // 800 bytes: the rest of a goes, then b's first.
    expect(await seqs(broker, 'b')).toEqual([2, 3, 4]);
  });

  it('maxChannels: evicts the least recently published channel without subscribers; its seqs are never reused', async () => {
    const broker = make({ maxChannels: 3 });
    const stop = await broker.subscribe('watched', () => undefined);
    await broker.publish('watched', 1);
    for (let i = 0; i < 5; i++) await broker.publish('a', i);
    await broker.publish('b', 1);
    // A fourth channel: "a" is the idle one published to least recently ("watched" has a subscriber).
    await broker.publish('c', 1);
    expect(await broker.read('a', 0)).toMatchObject({ messages: [] });
    expect(await seqs(broker, 'watched')).toEqual([1]);
    // Recreated after the eviction, "a" continues past every seq it had: an old cursor (seq 3)
    // is now behind its history, which the server answers with a gap.
    const again = await broker.publish('a', 'new');
    expect(again.seq).toBeGreaterThan(5);
    const read = await broker.read('a', 3);
    expect(read.first).toBe(again.seq);
    stop();
  });

  it('refuses data that is not JSON instead of storing what no subscriber could receive', async () => {
    const broker = make({});
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    await expect(broker.publish('a', cycle)).rejects.toThrow(TypeError);
    await expect(broker.publish('a', 10n)).rejects.toThrow(TypeError);
    expect((await broker.read('a', 0)).head).toBe(0);
  });
});
