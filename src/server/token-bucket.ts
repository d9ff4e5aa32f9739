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
    tokens = burst,
  ) {
    this.tokens = tokens;
    this.at = now();
  }

  /** Takes `count` tokens; false (and none taken) when fewer are left. */
  take(count = 1): boolean {
    this.refill();
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }

  /**
   * Spends `count` tokens even when fewer are left (the bucket goes into debt, repaid at its
   * rate); false when it is in debt afterwards.
   */
  spend(count: number): boolean {
    this.refill();
    this.tokens -= count;
    return this.tokens >= 0;
  }

  /** A bucket of its own holding what this one holds now. */
  copy(): TokenBucket {
    this.refill();
    return new TokenBucket(this.rate, this.burst, this.now, this.tokens);
  }

  /** Milliseconds until the bucket holds `count` tokens (0 when it does now). */
  msUntil(count: number): number {
    this.refill();
    return this.tokens >= count ? 0 : Math.ceil(((count - this.tokens) * 1000) / this.rate);
  }

  /** True once the bucket has filled up again. */
  full(): boolean {
    this.refill();
    return this.tokens >= this.burst;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.at) * this.rate) / 1000);
    this.at = t;
  }
}

/**
 * The publish buckets of connections cut for going over `publishRate`, by address, until they
 * are full again. A connection opened from that address meanwhile starts from a copy of it (as
 * spent as it is now, refilling at the same rate) instead of a full one, so reconnecting never
 * buys a new burst. At most `max` addresses are kept, the oldest cut forgotten first.
 */
export class SpentBuckets {
  private readonly byIp = new Map<string, TokenBucket>();

  constructor(private readonly max = 10_000) {}

  /** Keeps the bucket of a connection from `ip` that was just cut. */
  keep(ip: string, bucket: TokenBucket): void {
    this.byIp.delete(ip);
    this.byIp.set(ip, bucket);
    if (this.byIp.size > this.max) this.byIp.delete(this.byIp.keys().next().value as string);
  }

  /**
   * Milliseconds until the spent bucket of `ip` holds `count` tokens; 0 when it does, or when
   * the address has none. A connection opened sooner could not publish even `count`.
   */
  retryAfter(ip: string, count: number): number {
    return this.byIp.get(ip)?.msUntil(count) ?? 0;
  }

  /** A copy of the spent bucket of `ip` for a new connection, while it has not filled up again. */
  of(ip: string): TokenBucket | undefined {
    const bucket = this.byIp.get(ip);
    if (!bucket) return undefined;
    if (!bucket.full()) return bucket.copy();
    this.byIp.delete(ip);
    return undefined;
  }
}
