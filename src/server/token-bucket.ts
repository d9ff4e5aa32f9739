/**
 * A token bucket: `rate` tokens a second, holding at most `burst`. Full at the start, so a
 * client may spend a burst at once (a reconnect resending its outbox) and then `rate` a second.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.at = now();
  }

  /** Takes `count` tokens; false (and none taken) when fewer are left. */
  take(count = 1): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.at) * this.rate) / 1000);
    this.at = t;
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }
}
