// Redis with RDB snapshots forgets what came after the last save when it is killed: the
// history rolls back and its last seqs are handed out again. No publish acknowledged after
// Redis came back may then be lost (a node that noticed the rollback later used to reset the
// epoch and delete them): the first call on a channel written by another Redis process starts
// a new epoch before anything is appended.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker, PublishResult, StoredMessage } from '../../src/server/brokers/broker.js';
import { redisBroker } from '../../src/server/brokers/redis.js';
import { startRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanup: (() => unknown)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('redisBroker when Redis rolls back (RDB snapshot, kill -9, restart)', () => {
  it('loses no publish acknowledged after the restart, in a loop', { timeout: 60_000 }, async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.dispose());
    const node = (): Broker => {
      const made = redisBroker({ url: redis.url, keyPrefix: 'roll:', reconnectDelay: () => 50, commandTimeout: 2000 });
      cleanup.push(() => made.close());
      return made;
    };
    const [publisher, subscriber] = [node(), node()];
    const got: StoredMessage[] = [];
    await subscriber.subscribe('ch', (message) => got.push(message));
    let n = 0;
    const publish = async (): Promise<PublishResult> => {
      const data = ++n;
      const result = await publisher.publish('ch', data, `id-${data}`);
      return result;
    };

    for (let round = 1; round <= 4; round++) {
      for (let i = 0; i < 10; i++) await publish();
      const admin = new Redis(redis.url);
      await admin.save();
      admin.disconnect();
      // Acknowledged, then forgotten by the crash: Redis cannot keep these, and says so by a
      // new epoch (subscribers get a gap), never by reusing their seqs.
      for (let i = 0; i < 10; i++) await publish();
      const beforeCrash = n;
      await redis.crash();
      await redis.start();

      // Publish as soon as Redis answers, racing the subscriber's catch-up after its reconnect.
      const after: { data: number; result: PublishResult }[] = [];
      while (after.length < 15) {
        try {
          const result = await publish();
          after.push({ data: n, result });
        } catch {
          n--;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      // The subscriber has caught up with everything published after the restart…
      await waitFor(() => expect(got.map((m) => m.data)).toEqual(expect.arrayContaining(after.map(({ data }) => data))), 10_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // …and every one of those acknowledgements is in the log, at its seq, in its epoch.
      const log = await publisher.read('ch', 0);
      for (const { data, result } of after) {
        expect(result.epoch).toBe(log.epoch);
        expect(log.messages.find((m) => m.seq === result.seq)?.data).toBe(data);
      }
      expect(after.every(({ data }) => data > beforeCrash)).toBe(true);
    }
  });
});
