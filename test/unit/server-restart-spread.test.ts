import { describe, expect, it } from 'vitest';
import { MAX_RESTART_SPREAD, MIN_RESTART_SPREAD, restartSpread } from '../../src/server/restart-spread.js';

describe('restartSpread', () => {
  it('sizes the window for the target rate, between 8 s and 60 s', () => {
    expect(restartSpread(0, 200)).toBe(MIN_RESTART_SPREAD);
    expect(restartSpread(500, 200)).toBe(8_000);
    expect(restartSpread(1_800, 200)).toBe(9_000);
    expect(restartSpread(2_000, 200)).toBe(10_000);
    expect(restartSpread(50_000, 200)).toBe(MAX_RESTART_SPREAD);
    expect(restartSpread(3, 1)).toBe(8_000);
    expect(restartSpread(30, 1)).toBe(30_000);
    expect(restartSpread(1, 200, 0)).toBe(5);
  });
});
