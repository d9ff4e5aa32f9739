import { describe, expect, it } from 'vitest';
import { SpentBuckets, TokenBucket } from '../../src/server/token-bucket.js';

describe('TokenBucket', () => {
  it('starts full, refuses more than it holds without taking any, and refills at its rate up to its size', () => {
    let now = 0;
    const bucket = new TokenBucket(100, 200, () => now);
    expect(bucket.take(200)).toBe(true);
    expect(bucket.take(1)).toBe(false);
    now += 500;
    // 50 tokens came back: 51 is refused whole, then 50 fit.
    expect(bucket.take(51)).toBe(false);
    expect(bucket.take(50)).toBe(true);
    now += 60_000;
    expect(bucket.take(201)).toBe(false);
    expect(bucket.take(200)).toBe(true);
  });
});

describe('SpentBuckets', () => {
  it('starts its address’s next connections from a copy of the cut bucket until it has filled up again', () => {
    let now = 0;
    const spent = new SpentBuckets();
    const bucket = new TokenBucket(100, 200, () => now);
    expect(bucket.take(200)).toBe(true);
    spent.keep('10.0.0.1', bucket);
    expect(spent.of('10.0.0.2')).toBeUndefined();
    now += 100;
    // 10 tokens back: each new connection gets its own copy of them, not a share of one bucket.
    const [first, second] = [spent.of('10.0.0.1')!, spent.of('10.0.0.1')!];
    expect(first.take(11)).toBe(false);
    expect(first.take(10)).toBe(true);
    expect(second.take(10)).toBe(true);
    expect(bucket.take(10)).toBe(true);
    now += 1999;
    expect(spent.of('10.0.0.1')).toBeDefined();
    now += 1;
    // Full again: the address starts over like any other.
    expect(spent.of('10.0.0.1')).toBeUndefined();
  });

  it('keeps at most its bound of addresses, forgetting the oldest cut first', () => {
    const spent = new SpentBuckets(2);
    const empty = () => {
      const bucket = new TokenBucket(1, 100, () => 0);
      bucket.take(100);
      return bucket;
    };
    spent.keep('a', empty());
    spent.keep('b', empty());
    spent.keep('a', empty());
    spent.keep('c', empty());
    expect(spent.of('b')).toBeUndefined();
    expect(spent.of('a')).toBeDefined();
    expect(spent.of('c')).toBeDefined();
  });
});
