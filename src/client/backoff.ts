/** The two numbers that shape the backoff curve. */
export interface BackoffPolicy {
  /** Upper bound of the first retry's delay, in ms. */
  initialDelay: number;
  /** Cap on the upper bound, in ms. */
  maxDelay: number;
}

/**
 * Delay before reconnect attempt number `attempt` (0 for the first retry): "full jitter",
 * a uniformly random delay between 0 and min(maxDelay, initialDelay × 2^attempt), so a fleet
 * of clients dropped together comes back spread out instead of in waves.
 * @param random returns a number in [0, 1); injectable so tests can pin the jitter
 */
export function reconnectDelay(attempt: number, { initialDelay, maxDelay }: BackoffPolicy, random: () => number = Math.random): number {
  // The exponent is capped so a long outage cannot overflow to Infinity × 0 = NaN.
  return random() * Math.min(maxDelay, initialDelay * 2 ** Math.min(attempt, 30));
}
