// Backoff: the pure full-jitter function, and the schedule a client really follows,
// captured by when its next connection starts (fake timers, injected randomness).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { reconnectDelay } from '../../src/core.js';
import { fakeClient, flush } from '../helpers/fake-transport.js';

describe('reconnectDelay', () => {
  const policy = { initialDelay: 500, maxDelay: 10_000 };

  it('doubles the upper bound per attempt up to maxDelay', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 40].map((attempt) => reconnectDelay(attempt, policy, () => 1))).toEqual([
      500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000,
    ]);
  });

  it('spreads delays uniformly between 0 and the bound (full jitter)', () => {
    expect(reconnectDelay(3, policy, () => 0)).toBe(0);
    expect(reconnectDelay(3, policy, () => 0.25)).toBe(1000);
    for (let i = 0; i < 200; i++) {
      const delay = reconnectDelay(i % 8, policy);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(10_000, 500 * 2 ** (i % 8)));
    }
  });

  it('never yields NaN, even for huge attempts or a zero initial delay', () => {
    expect(reconnectDelay(5000, { initialDelay: 0, maxDelay: 100 }, () => 0.5)).toBe(0);
    expect(reconnectDelay(5000, policy, () => 0.5)).toBe(5000);
  });
});

describe('the client follows the schedule', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Advances to one ms before `delay`, checks nothing started, then to `delay`. */
  async function expectNextAttemptAfter(fake: ReturnType<typeof fakeClient>['fake'], delay: number) {
    const before = fake.connections.length;
    await vi.advanceTimersByTimeAsync(delay - 1);
    expect(fake.connections.length, `nothing before ${delay} ms`).toBe(before);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.connections.length, `an attempt at ${delay} ms`).toBe(before + 1);
  }

  it('retries failed attempts at random × min(maxDelay, initialDelay × 2^attempt)', async () => {
    const randoms = [0.5, 0.9, 0.1, 0.5, 0.5, 0.99];
    let i = 0;
    const { client, fake } = fakeClient(
      { random: () => randoms[i++ % randoms.length]!, reconnect: { initialDelay: 200, maxDelay: 3000 } },
      ['websocket'],
    );
    await flush();
    for (const delay of [100, 360, 80, 800, 1500, 2970]) {
      fake.last().fail();
      await expectNextAttemptAfter(fake, delay);
    }
    client.close();
  });

  it('resets the attempt count only after the connection stayed up for stableAfter', async () => {
    const { client, fake } = fakeClient({ reconnect: { initialDelay: 1000, maxDelay: 60_000, stableAfter: 5000 } }, ['websocket']);
    await flush();
    fake.last().fail();
    await expectNextAttemptAfter(fake, 500); // attempt 0
    fake.last().fail();
    await expectNextAttemptAfter(fake, 1000); // attempt 1
    fake.last().welcome();
    await vi.advanceTimersByTimeAsync(4999);
    fake.last().fail();
    await expectNextAttemptAfter(fake, 2000); // attempt 2: up 4999 ms was not stable
    fake.last().welcome();
    await vi.advanceTimersByTimeAsync(5000);
    fake.last().fail();
    await expectNextAttemptAfter(fake, 500); // stable: back to attempt 0
    client.close();
  });
});
