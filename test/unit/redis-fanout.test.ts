// The Redis broker's fan-out repair, driven by hand: live pub/sub messages can be lost, so
// holes, epoch changes and reconnects are filled from the stream, each message once, in order.
import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../../src/server/brokers/broker.js';
import { createFanout } from '../../src/server/brokers/redis-fanout.js';
import type { NoncedMessage, TrackedRead } from '../../src/server/brokers/redis-scripts.js';

/** A fake Redis: a log per epoch, reads that can be made to fail, and a record of what was asked. */
function fakeRedis() {
  let epoch = 'e1';
  let epochs = 1;
  let log: NoncedMessage[] = [];
  let first = 1;
  let nonces = 0;
  const state = {
    failReads: false,
    reads: [] as (number | undefined)[],
    listened: [] as string[][],
    unlistened: [] as string[],
    resets: [] as string[],
  };
  const fanout = createFanout({
    listen: async (names) => state.listened.push(names),
    unlisten: async (name) => state.unlistened.push(name),
    read: async (channel, after, check): Promise<TrackedRead> => {
      state.reads.push(after);
      await Promise.resolve();
      if (state.failReads) throw new Error('Redis down');
      const head = log.length ? log[log.length - 1]!.seq : 0;
      const kept = log.filter((m) => m.seq >= first);
      return {
        epoch,
        head,
        first: kept[0]?.seq ?? head + 1,
        messages: after === undefined ? [] : kept.filter((m) => m.seq > after && m.channel === channel),
        checked: kept.find((m) => m.seq === check)?.nonce,
      };
    },
    reset: async (_channel, broken) => {
      state.resets.push(broken);
      if (broken === epoch) {
        epoch = `e${++epochs}`;
        log = [];
        first = 1;
      }
    },
    liveName: (channel) => `live:${channel}`,
  });
  /** Appends to the log; `live` also delivers it over "pub/sub". */
  const publish = (data: unknown, live = true) => {
    const message = { channel: 'ch', epoch, seq: log.length + 1, data, nonce: `n${++nonces}` };
    log.push(message);
    if (live) fanout.onMessage('live:ch', `${message.epoch} ${message.seq} ${message.nonce} ${JSON.stringify(data)}`);
    return message;
  };
  return {
    fanout,
    state,
    publish,
    /** Redis lost everything: a new epoch, an empty log. */
    lose: () => {
      epoch = `e${++epochs}`;
      log = [];
      first = 1;
    },
    /** Redis forgot its last writes but kept the epoch (a crash between fsyncs, a lagging replica). */
    rollBackTo: (seq: number) => {
      log = log.filter((m) => m.seq <= seq);
    },
    trimTo: (seq: number) => {
      first = seq;
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

async function subscribed() {
  const redis = fakeRedis();
  const got: StoredMessage[] = [];
  const stop = await redis.fanout.subscribe('ch', (m) => got.push(m));
  return { ...redis, got, stop, seqs: () => got.map((m) => `${m.epoch}:${m.seq}`) };
}

describe('Redis fan-out repair', () => {
  it('subscribes before reading the head, then delivers live messages in order', async () => {
    const t = await subscribed();
    expect(t.state.listened).toEqual([['live:ch']]);
    expect(t.state.reads).toEqual([undefined]);
    t.publish('a');
    t.publish('b');
    expect(t.got.map((m) => m.data)).toEqual(['a', 'b']);
  });

  it('drops a live message it already delivered', async () => {
    const t = await subscribed();
    const first = t.publish('a');
    t.fanout.onMessage('live:ch', `${first.epoch} ${first.seq} ${first.nonce} "a"`);
    expect(t.seqs()).toEqual(['e1:1']);
  });

  it('fills a seq jump from the stream and holds later live messages until it is filled', async () => {
    const t = await subscribed();
    t.publish(1);
    t.publish(2, false);
    t.publish(3, false);
    t.publish(4);
    t.publish(5); // arrives while the hole is being read
    expect(t.seqs()).toEqual(['e1:1']);
    await settle();
    expect(t.seqs()).toEqual(['e1:1', 'e1:2', 'e1:3', 'e1:4', 'e1:5']);
    expect(t.state.reads).toEqual([undefined, 1]);
  });

  it('skips what the stream no longer holds instead of waiting for it', async () => {
    const t = await subscribed();
    t.publish(1);
    for (let i = 2; i <= 6; i++) t.publish(i, false);
    t.trimTo(7);
    t.publish(7);
    await settle();
    expect(t.seqs()).toEqual(['e1:1', 'e1:7']);
    t.publish(8);
    expect(t.seqs()).toEqual(['e1:1', 'e1:7', 'e1:8']);
  });

  it('moves to a new epoch and delivers it from its first message', async () => {
    const t = await subscribed();
    t.publish(1);
    t.publish(2);
    t.lose();
    t.publish('new 1', false);
    t.publish('new 2');
    await settle();
    expect(t.seqs()).toEqual(['e1:1', 'e1:2', 'e2:1', 'e2:2']);
    // Read after the old cursor, saw another epoch, read the new one from its start.
    expect(t.state.reads.slice(1)).toEqual([2, 0]);
  });

  it('after a reconnect, subscribes again and catches up what pub/sub missed', async () => {
    const t = await subscribed();
    t.publish(1);
    t.publish(2, false);
    t.publish(3, false);
    await t.fanout.resync();
    await settle();
    expect(t.state.listened).toEqual([['live:ch'], ['live:ch']]);
    expect(t.seqs()).toEqual(['e1:1', 'e1:2', 'e1:3']);
    expect(t.state.resets).toEqual([]);
  });

  it('resets the channel to a new epoch when Redis came back with fewer messages than were delivered', async () => {
    const t = await subscribed();
    for (let i = 1; i <= 3; i++) t.publish(i);
    t.rollBackTo(2);
    await t.fanout.resync();
    await settle();
    expect(t.state.resets).toEqual(['e1']);
    t.publish('after');
    expect(t.seqs()).toEqual(['e1:1', 'e1:2', 'e1:3', 'e2:1']);
  });

  it('resets the channel when Redis rolled back and handed a delivered seq to other data', async () => {
    const t = await subscribed();
    for (let i = 1; i <= 3; i++) t.publish(i);
    t.rollBackTo(2);
    t.publish('reused seq 3');
    await settle();
    expect(t.state.resets).toEqual(['e1']);
    // Before the reset, nothing of the rolled-back log was passed on as if it were new.
    expect(t.seqs()).toEqual(['e1:1', 'e1:2', 'e1:3']);
    t.publish('next');
    expect(t.got.at(-1)).toMatchObject({ epoch: 'e2', seq: 1, data: 'next' });
  });

  it('notices a rollback on resync even when newer publishes refilled the same seqs', async () => {
    const t = await subscribed();
    for (let i = 1; i <= 3; i++) t.publish(i);
    t.rollBackTo(1);
    t.publish('new 2', false);
    t.publish('new 3', false);
    await t.fanout.resync();
    await settle();
    expect(t.state.resets).toEqual(['e1']);
    expect(t.seqs()).toEqual(['e1:1', 'e1:2', 'e1:3']);
  });

  it('keeps holding when a catch-up read fails, and finishes it on resync', async () => {
    const t = await subscribed();
    t.publish(1);
    t.publish(2, false);
    t.state.failReads = true;
    t.publish(3);
    await settle();
    expect(t.seqs()).toEqual(['e1:1']);
    t.state.failReads = false;
    await t.fanout.resync();
    await settle();
    expect(t.seqs()).toEqual(['e1:1', 'e1:2', 'e1:3']);
  });

  it('keeps delivering to the other listeners when one throws', async () => {
    const t = await subscribed();
    await t.fanout.subscribe('ch', () => {
      throw new Error('listener bug');
    });
    t.publish(1);
    t.publish(2);
    expect(t.seqs()).toEqual(['e1:1', 'e1:2']);
  });

  it('unsubscribes from Redis when the last listener leaves, and ignores later messages', async () => {
    const t = await subscribed();
    t.stop();
    expect(t.state.unlistened).toEqual(['live:ch']);
    t.publish(1);
    expect(t.got).toEqual([]);
  });

  it('fails the subscribe, and forgets the channel, when Redis cannot be read', async () => {
    const redis = fakeRedis();
    redis.state.failReads = true;
    await expect(redis.fanout.subscribe('ch', () => undefined)).rejects.toThrow('Redis down');
    expect(redis.state.unlistened).toEqual(['live:ch']);
    redis.state.failReads = false;
    const got: StoredMessage[] = [];
    await redis.fanout.subscribe('ch', (m) => got.push(m));
    redis.publish('x');
    expect(got.map((m) => m.data)).toEqual(['x']);
  });
});
