import { TokenBucket } from './token-bucket.js';

/** What stops and starts a metered stream's reading (a WebSocket, or a request itself). */
export interface Pausable {
  pause(): void;
  resume(): void;
}

interface Address {
  readonly ip: string;
  /** One second's worth of bytes; in debt while the address is over. */
  readonly bucket: TokenBucket;
  readonly streams: Set<Pausable>;
  /** Set while the address is over its budget and its streams are paused. */
  timer: NodeJS.Timeout | undefined;
  /** Called once the address is within its budget again. */
  readonly waiters: (() => void)[];
  /** Set while an address without streams waits for its bucket to fill up before it is dropped. */
  idle: NodeJS.Timeout | undefined;
}

interface Watched {
  readonly address: Address;
  readonly target: Pausable;
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
  private readonly watched = new WeakMap<NodeJS.EventEmitter, Watched>();
  // One pair of listeners for every stream (they find theirs by `this`): an idle connection
  // costs the meter a map entry, not closures of its own.
  private readonly onData: (this: NodeJS.EventEmitter, chunk: Buffer) => void;
  private readonly onClose: (this: NodeJS.EventEmitter) => void;

  constructor(
    private readonly rate: number,
    private readonly now: () => number = Date.now,
  ) {
    const meter = this;
    this.onData = function (chunk) {
      const watched = meter.watched.get(this);
      if (watched) meter.charge(watched, chunk.length);
    };
    this.onClose = function () {
      meter.unwatch(this);
    };
  }

  /**
   * Meters the bytes `source` reads (its 'data' events) as `ip`'s, until it emits 'close';
   * `target` is paused while the address is over its budget.
   */
  watch(ip: string, source: NodeJS.EventEmitter, target: Pausable): void {
    if (this.watched.has(source)) return;
    let address = this.addresses.get(ip);
    if (!address) {
      address = {
        ip,
        bucket: new TokenBucket(this.rate, this.rate, this.now),
        streams: new Set(),
        timer: undefined,
        waiters: [],
        idle: undefined,
      };
      this.addresses.set(ip, address);
    }
    address.streams.add(target);
    if (address.timer) target.pause();
    this.watched.set(source, { address, target });
    source.on('data', this.onData);
    source.on('close', this.onClose);
  }

  /** Stops metering `source` (it also stops at its 'close'); its target is not resumed by the meter again. */
  unwatch(source: NodeJS.EventEmitter): void {
    source.off('data', this.onData);
    source.off('close', this.onClose);
    const watched = this.watched.get(source);
    if (!watched) return;
    this.watched.delete(source);
    watched.address.streams.delete(watched.target);
    this.forget(watched.address);
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

  private charge({ address, target }: Watched, bytes: number): void {
    if (address.bucket.spend(bytes) || address.timer) return;
    for (const stream of address.streams) stream.pause();
    // Resumed in order, the first stream with data buffered puts the address in debt again
    // before the others are read: the one that did it goes last next time.
    address.streams.delete(target);
    address.streams.add(target);
    this.wait(address);
  }

  /** Resumes the address's streams once its debt is paid. */
  private wait(address: Address): void {
    address.timer = setTimeout(() => {
      address.timer = undefined;
      if (address.bucket.msUntil(0) > 0) return this.wait(address);
      for (const stream of address.streams) stream.resume();
      for (const resolve of address.waiters.splice(0)) resolve();
      this.forget(address);
    }, address.bucket.msUntil(0));
    // A server that is closing does not wait for a throttled address.
    address.timer.unref();
  }

  /**
   * Drops an address with no streams once its bucket is full again (not before: closing and
   * reopening connections must not buy a fresh second's worth).
   */
  private forget(address: Address): void {
    if (address.streams.size > 0 || address.timer || address.idle) return;
    if (address.bucket.full()) {
      this.addresses.delete(address.ip);
      return;
    }
    address.idle = setTimeout(() => {
      address.idle = undefined;
      this.forget(address);
    }, address.bucket.msUntil(this.rate));
    address.idle.unref();
  }
}
