/** A stream whose bytes are metered: where they are read, and how its reading stops and starts. */
export interface Metered {
  /** Emits 'data' with each chunk read and 'close' once. */
  source: NodeJS.EventEmitter;
  pause(): void;
  resume(): void;
}

interface Address {
  readonly ip: string;
  tokens: number;
  at: number;
  readonly streams: Set<Metered>;
  /** Set while the address is over its budget and its streams are paused. */
  timer: NodeJS.Timeout | undefined;
  /** Called once the address is within its budget again. */
  readonly waiters: (() => void)[];
  /** Set while an address without streams waits for its bucket to fill up before it is dropped. */
  idle: NodeJS.Timeout | undefined;
}

/**
 * Meters the bytes each IP address sends (its WebSockets and `/send` bodies, all its connections
 * together) against `maxInboundRatePerIp`, a token bucket of one second's worth. While an address
 * is over, none of its streams is read: TCP slows the sender down, and the event loop keeps its
 * time for everyone else. Nothing is refused or cut, so a well-behaved client behind the same
 * address just waits.
 */
export class InboundMeter {
  private readonly addresses = new Map<string, Address>();

  constructor(
    private readonly rate: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Meters `stream` as one of `ip`'s until its source closes. */
  watch(ip: string, stream: Metered): void {
    let address = this.addresses.get(ip);
    if (!address) {
      address = { ip, tokens: this.rate, at: this.now(), streams: new Set(), timer: undefined, waiters: [], idle: undefined };
      this.addresses.set(ip, address);
    }
    const held = address;
    held.streams.add(stream);
    if (held.timer) stream.pause();
    const onData = (chunk: Buffer) => this.charge(held, chunk.length);
    stream.source.on('data', onData);
    stream.source.once('close', () => {
      stream.source.off('data', onData);
      held.streams.delete(stream);
      this.forget(held);
    });
  }

  /**
   * Resolves once `ip` is within its budget. A body that arrived in one chunk was read before
   * its stream could be paused: waiting here before handling it keeps many small requests in
   * parallel to the same rate.
   */
  ready(ip: string): Promise<void> {
    const address = this.addresses.get(ip);
    if (!address?.timer) return Promise.resolve();
    return new Promise((resolve) => address.waiters.push(resolve));
  }

  /** Addresses being metered now (for tests and /health-style checks). */
  get size(): number {
    return this.addresses.size;
  }

  private refill(address: Address): void {
    const t = this.now();
    address.tokens = Math.min(this.rate, address.tokens + ((t - address.at) * this.rate) / 1000);
    address.at = t;
  }

  private charge(address: Address, bytes: number): void {
    this.refill(address);
    address.tokens -= bytes;
    if (address.tokens >= 0 || address.timer) return;
    for (const stream of address.streams) stream.pause();
    this.wait(address);
  }

  /** Resumes the address's streams once its debt is paid. */
  private wait(address: Address): void {
    const ms = Math.ceil((-address.tokens * 1000) / this.rate);
    address.timer = setTimeout(() => {
      address.timer = undefined;
      this.refill(address);
      if (address.tokens < 0) return this.wait(address);
      for (const stream of address.streams) stream.resume();
      for (const resolve of address.waiters.splice(0)) resolve();
      this.forget(address);
    }, ms);
    // A server that is closing does not wait for a throttled address.
    address.timer.unref();
  }

  /**
   * Drops an address with no streams once its bucket is full again (not before: closing and
   * reopening connections must not buy a fresh second's worth).
   */
  private forget(address: Address): void {
    if (address.streams.size > 0 || address.timer || address.idle) return;
    this.refill(address);
    if (address.tokens >= this.rate) {
      this.addresses.delete(address.ip);
      return;
    }
    address.idle = setTimeout(
      () => {
        address.idle = undefined;
        this.forget(address);
      },
      Math.ceil(((this.rate - address.tokens) * 1000) / this.rate),
    );
    address.idle.unref();
  }
}
