// When a client counts as too slow to keep (close 4003): PROTOCOL.md's 4003 row and the
// `maxSendBuffer` option say the same in fewer words.

/**
 * Tells a slow consumer from one working through a burst. A flush that starts with the client
 * caught up (at most `maxSendBuffer` unsent), or that carries a resume's replay, is a burst: it
 * goes out whole whatever its size, and the client takes the oldest bytes first. A client is
 * slow when what waits behind the bursts stays over `maxSendBuffer` at every flush for
 * `heartbeat` ms or is over 16 times it at any flush, or (with `stalls`) when it holds over
 * `maxSendBuffer` and has taken nothing for `heartbeat` ms. So one that reads keeps its
 * connection however long a burst takes, one that stopped reading is cut within a heartbeat or
 * two (the server's idle pings are flushes too), and none holds more than 64 × maxSendBuffer
 * of bursts plus 16 × behind them.
 */
export class SlowConsumerCheck {
  /** Bytes of bursts not taken yet (the client drains the oldest bytes first). */
  private burst = 0;
  /** Bytes unsent at the last look. */
  private after = 0;
  /** Whether the flush under way is a burst. */
  private bursting = true;
  private behindSince: number | undefined;
  /** When the client last took something, or had at most maxSendBuffer unsent. */
  private progressAt = 0;

  /**
   * @param stalls whether taking nothing for a heartbeat is a sign: not on long polling, whose
   *   progress shows only when a whole answer is acknowledged (and whose client is closed by
   *   the poll expiry when it stops polling)
   */
  constructor(
    private readonly settings: { heartbeat: number; maxSendBuffer: number },
    private readonly stalls = true,
  ) {}

  /** Notes what the client took since the last look (for the parts of a relayed flush after the first). */
  note(pending: number, now = Date.now()): void {
    const taken = Math.max(0, this.after - pending);
    this.burst = Math.min(pending, Math.max(0, this.burst - taken));
    this.after = pending;
    if (taken > 0 || pending <= this.settings.maxSendBuffer) this.progressAt = now;
  }

  /**
   * Call before a flush with the bytes still unsent (`replay` when it carries a resume's
   * replay), and {@link flushed} after it; true when the client is too slow to keep.
   */
  tooSlow(pending: number, replay = false, now = Date.now()): boolean {
    const { maxSendBuffer, heartbeat } = this.settings;
    this.note(pending, now);
    this.bursting = replay || pending <= maxSendBuffer;
    if (this.stalls && now - this.progressAt >= heartbeat) return true;
    const behind = pending - this.burst;
    if (behind <= maxSendBuffer) {
      this.behindSince = undefined;
      return false;
    }
    this.behindSince ??= now;
    return behind > 16 * maxSendBuffer || now - this.behindSince >= heartbeat;
  }

  /** Call after a flush (or each part of one) with the bytes unsent now. */
  flushed(pending: number): void {
    if (this.bursting) this.burst = Math.min(64 * this.settings.maxSendBuffer, this.burst + Math.max(0, pending - this.after));
    this.after = pending;
  }
}
