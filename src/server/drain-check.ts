// What a WebSocket client has really read. `bufferedAmount` shows only what waits in this
// process: the kernel's send buffer and the peer's receive buffer take megabytes first (issue
// 11: a reader that stopped reading but kept pinging was cut after 194 s, 24.7 MB later). A
// client answers every server `ping` with a `pong` from its message handler, once it has read
// everything before that ping: so each pong proves how far it has drained.

/** Most probes remembered: a peer that never answers is cut long before this many. */
const MAX_PROBES = 1024;

/**
 * Tells a WebSocket client that stopped reading from one that reads, by the pongs that answer
 * the server's pings. The server sends a ping (a probe) after every `maxSendBuffer` bytes it
 * writes, beside its idle and silence pings; a client is stalled when it has more than
 * `maxSendBuffer` unconfirmed (written after the last ping it answered) and the oldest ping
 * it has not answered has waited `heartbeat` ms (counted from its last answer, if later). So
 * a client must drain about `maxSendBuffer` every heartbeat (40 KiB/s with the defaults) while
 * it is that far behind, and one that stopped is cut about a heartbeat after falling
 * `maxSendBuffer` behind, whatever the kernel buffers hold.
 */
export class DrainCheck {
  /** Bytes written to the socket. */
  private written = 0;
  /** Bytes written before the last ping the client answered. */
  private confirmed = 0;
  /** Pings not answered yet, oldest first: the bytes written up to each, and when it went. */
  private readonly probes: { offset: number; at: number }[] = [];
  private lastProbeOffset = 0;
  private answeredAt = 0;

  constructor(private readonly settings: { heartbeat: number; maxSendBuffer: number }) {}

  /**
   * Notes a wire message of `bytes` written; `ping` when it holds a ping. True when the caller
   * should send a probe ping now (`maxSendBuffer` written since the last ping).
   */
  wrote(bytes: number, ping: boolean, now = Date.now()): boolean {
    this.written += bytes;
    if (ping) {
      this.probes.push({ offset: this.written, at: now });
      if (this.probes.length > MAX_PROBES) this.probes.shift();
      this.lastProbeOffset = this.written;
      return false;
    }
    return this.written - this.lastProbeOffset >= this.settings.maxSendBuffer;
  }

  /** Notes a `pong` from the client: it has read everything up to its oldest unanswered ping. */
  answered(now = Date.now()): void {
    const probe = this.probes.shift();
    if (!probe) return;
    this.confirmed = probe.offset;
    this.answeredAt = now;
  }

  /** True when the client is too far behind and has not drained for `heartbeat` ms. */
  stalled(now = Date.now()): boolean {
    const oldest = this.probes[0];
    if (!oldest || this.written - this.confirmed <= this.settings.maxSendBuffer) return false;
    return now - Math.max(oldest.at, this.answeredAt) >= this.settings.heartbeat;
  }
}
