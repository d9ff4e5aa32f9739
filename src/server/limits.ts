/**
 * Counts live connections per client IP address so one address cannot take them all.
 * The address is the socket's peer: behind a proxy every client shares the proxy's address,
 * so raise `maxConnectionsPerIp` there rather than trusting a spoofable header.
 */
export class IpLimiter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Takes one slot for `ip`; false when the address is already at the limit. */
  acquire(ip: string): boolean {
    const count = this.counts.get(ip) ?? 0;
    if (count >= this.max) return false;
    this.counts.set(ip, count + 1);
    return true;
  }

  /** Gives back a slot taken by {@link acquire}. */
  release(ip: string): void {
    const count = this.counts.get(ip) ?? 0;
    if (count <= 1) this.counts.delete(ip);
    else this.counts.set(ip, count - 1);
  }
}

/** The peer address of a request's socket, or a placeholder when the socket is already gone. */
export const clientIp = (socket: { remoteAddress?: string | undefined }): string => socket.remoteAddress ?? 'unknown';
