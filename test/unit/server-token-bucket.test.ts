import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/server/token-bucket.js';

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
