import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InboundMeter } from '../../src/server/inbound-rate.js';

/** A stream that records whether it is being read; watched as `meter.watch(ip, s.source, s)`. */
function stream() {
  const source = new EventEmitter();
  const s = {
    source,
    paused: false,
    pause: () => {
      s.paused = true;
    },
    resume: () => {
      s.paused = false;
    },
    read: (bytes: number) => source.emit('data', Buffer.alloc(bytes)),
    close: () => source.emit('close'),
  };
  return s;
}

describe('InboundMeter', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('stops reading every stream of an address once it is over its bytes per second, and resumes them when the debt is paid', () => {
    const meter = new InboundMeter(1000, Date.now);
    const [a, b, other] = [stream(), stream(), stream()];
    meter.watch('1.1.1.1', a.source, a);
    meter.watch('1.1.1.1', b.source, b);
    meter.watch('2.2.2.2', other.source, other);
    a.read(600);
    b.read(400);
    expect([a.paused, b.paused]).toEqual([false, false]);
    b.read(500);
    // 500 bytes over at 1000 a second: half a second of not reading, for both of the address's streams.
    expect([a.paused, b.paused, other.paused]).toEqual([true, true, false]);
    // A stream opened meanwhile from the same address waits with the others.
    const late = stream();
    meter.watch('1.1.1.1', late.source, late);
    expect(late.paused).toBe(true);
    other.read(1000);
    expect(other.paused).toBe(false);
    vi.advanceTimersByTime(499);
    expect(a.paused).toBe(true);
    vi.advanceTimersByTime(1);
    expect([a.paused, b.paused, late.paused]).toEqual([false, false, false]);
  });

  it('forgets an address only once its streams are closed and its bucket is full again', () => {
    const meter = new InboundMeter(1000, Date.now);
    const a = stream();
    meter.watch('1.1.1.1', a.source, a);
    a.read(1500);
    a.close();
    // Owes 500 bytes, then needs a second to fill up: a new stream meanwhile starts where it left off.
    vi.advanceTimersByTime(1000);
    expect(meter.size).toBe(1);
    const b = stream();
    meter.watch('1.1.1.1', b.source, b);
    b.read(600);
    expect(b.paused).toBe(true);
    b.close();
    vi.advanceTimersByTime(1600);
    expect(meter.size).toBe(0);
    // Its listeners are gone with it.
    expect(a.source.listenerCount('data')).toBe(0);
    expect(a.source.listenerCount('close')).toBe(0);
    const next = stream();
    meter.watch('1.1.1.1', next.source, next);
    expect(next.paused).toBe(false);
  });

  it('ready() resolves at once within the budget, and only once the debt is paid when over it', async () => {
    const meter = new InboundMeter(1000, Date.now);
    const a = stream();
    meter.watch('1.1.1.1', a.source, a);
    await meter.ready('1.1.1.1');
    a.read(1200);
    let ready = false;
    void meter.ready('1.1.1.1').then(() => (ready = true));
    await vi.advanceTimersByTimeAsync(199);
    expect(ready).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(ready).toBe(true);
    await meter.ready('9.9.9.9');
  });
});

describe('InboundMeter with real streams', () => {
  it('a stream that keeps the address in debt does not starve the address’s other streams', async () => {
    const meter = new InboundMeter(1_048_576);
    const heavy = new PassThrough();
    const light = new PassThrough();
    meter.watch('1.1.1.1', heavy, heavy);
    meter.watch('1.1.1.1', light, light);
    let heavyBytes = 0;
    heavy.on('data', (chunk: Buffer) => {
      heavyBytes += chunk.length;
    });
    // 3 MiB buffered: about two seconds of the budget after the first second's worth.
    for (let i = 0; i < 192; i++) heavy.write(Buffer.alloc(16_384));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heavyBytes).toBeLessThan(3 * 1_048_576);
    const lightRead = new Promise<number>((resolve) => light.once('data', () => resolve(heavyBytes)));
    light.write(Buffer.alloc(100));
    // Read while the heavy stream still has most of its backlog, not after it.
    expect(await lightRead).toBeLessThan(2 * 1_048_576);
    heavy.destroy();
    light.destroy();
  });
});
