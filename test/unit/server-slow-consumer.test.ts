// When the server cuts a client as a slow consumer (4003), on simulated buffers: a burst drains
// at the client's pace, what waits behind it is what counts, and a client that takes nothing is cut.
import { describe, expect, it } from 'vitest';
import { SlowConsumerCheck } from '../../src/server/slow-consumer.js';

describe('SlowConsumerCheck', () => {
  // Small numbers: bursts may hold up to 64 × maxSendBuffer = 64,000 bytes here.
  const settings = { maxSendBuffer: 1000, heartbeat: 25_000 };

  /** A client's buffer: `send` is one flush of `bytes` at `now`, `take` is the client reading. */
  function buffer(stalls = true) {
    const check = new SlowConsumerCheck(settings, stalls);
    let pending = 0;
    return {
      send(bytes: number, now: number, replay = false): boolean {
        const slow = check.tooSlow(pending, replay, now);
        pending += bytes;
        check.flushed(pending);
        return slow;
      },
      /** A flush relayed in parts, the client reading `between` bytes before each later part. */
      sendInParts(parts: number[], between: number, now: number): boolean {
        const slow = check.tooSlow(pending, false, now);
        parts.forEach((part, i) => {
          if (i > 0) {
            pending = Math.max(0, pending - between);
            check.note(pending, now);
          }
          pending += part;
          check.flushed(pending);
        });
        return slow;
      },
      take(bytes: number) {
        pending = Math.max(0, pending - bytes);
      },
    };
  }

  it("lets a burst drain at the client's pace while it keeps reading, with live messages behind it", () => {
    const b = buffer();
    expect(b.send(60_000, 0)).toBe(false);
    for (let t = 100; t <= 120_000; t += 100) {
      b.take(1000);
      expect(b.send(20, t)).toBe(false);
    }
  });

  it('cuts a client that reads, but slower than what piles up behind the burst, after a heartbeat over maxSendBuffer', () => {
    const b = buffer();
    b.send(60_000, 0);
    // Each second it takes 100 bytes (of the burst) while 300 more queue behind the burst:
    // 1,200 behind at 5 s, over maxSendBuffer from then on, so cut a heartbeat later.
    let cutAt = 0;
    for (let t = 1000; t <= 60_000 && !cutAt; t += 1000) {
      b.take(100);
      if (b.send(300, t)) cutAt = t;
    }
    expect(cutAt).toBe(30_000);
  });

  it('starts the clock again once the client caught up', () => {
    const b = buffer();
    b.send(5000, 0);
    b.take(1);
    b.send(2000, 1000);
    b.take(1);
    // About 2,000 bytes behind the burst: the clock starts.
    expect(b.send(10, 2000)).toBe(false);
    b.take(7010);
    expect(b.send(5000, 20_000)).toBe(false);
    b.take(1);
    b.send(2000, 21_000);
    // Behind again, on a clock started at 22 s, not at 2 s (it keeps taking a little).
    for (const t of [22_000, 27_001, 46_999]) {
      b.take(1);
      expect(b.send(10, t)).toBe(false);
    }
    b.take(1);
    expect(b.send(10, 47_000)).toBe(true);
  });

  it('cuts a client holding a burst that has taken nothing for a heartbeat', () => {
    const b = buffer();
    expect(b.send(60_000, 0)).toBe(false);
    expect(b.send(10, 24_999)).toBe(false);
    expect(b.send(10, 25_000)).toBe(true);
  });

  it('counts every replay of a resume as a burst, not only the first (each channel is its own flush)', () => {
    const marked = buffer();
    const unmarked = buffer();
    let unmarkedCut = false;
    for (let channel = 0; channel < 7; channel++) {
      marked.take(10);
      expect(marked.send(8000, channel, true)).toBe(false);
      unmarked.take(10);
      unmarkedCut ||= unmarked.send(8000, channel, channel === 0);
    }
    unmarked.take(10);
    unmarkedCut ||= unmarked.send(10, 7);
    marked.take(10);
    expect(marked.send(10, 7)).toBe(false);
    // Without the mark, the replays after the first count as behind: over 16 × maxSendBuffer.
    expect(unmarkedCut).toBe(true);
  });

  it('holds at most 64 × maxSendBuffer of bursts: more counts as behind', () => {
    const b = buffer();
    b.send(64_000, 0, true);
    b.take(1);
    b.send(16_000, 1, true);
    b.take(1);
    expect(b.send(10, 2)).toBe(false);
    b.take(1);
    b.send(1500, 3);
    b.take(1);
    expect(b.send(10, 4)).toBe(true);
  });

  it('never lets bytes drained between the parts of a relayed flush linger as burst', () => {
    const b = buffer();
    // Flushes of 300 B in parts of 256 + 44 to a client that takes 250 B before each second
    // part and the rest between flushes: nothing ever waits.
    for (let t = 0; t < 1000; t++) {
      expect(b.sendInParts([256, 44], 250, t)).toBe(false);
      b.take(1_000_000);
    }
    // Then it stops reading: the two sends that find it caught up are a burst, then it is cut
    // once over 16 × maxSendBuffer waits behind (a lingering burst would let far more through).
    let sent = 0;
    let t = 1000;
    while (!b.send(1000, t++)) sent += 1000;
    expect(sent).toBe(2000 + 17_000);
  });

  it('on long polling (no stall rule) a client that takes nothing for a while is not cut for it', () => {
    const b = buffer(false);
    b.send(60_000, 0);
    expect(b.send(10, 60_000)).toBe(false);
    // The stall rule would have cut it.
    const stalls = buffer();
    stalls.send(60_000, 0);
    expect(stalls.send(10, 60_000)).toBe(true);
  });

  it('cuts at once past 16 × maxSendBuffer behind the burst', () => {
    const b = buffer();
    b.send(10_000, 0);
    expect(b.send(16_000, 1)).toBe(false);
    expect(b.send(1, 2)).toBe(false);
    expect(b.send(1, 3)).toBe(true);
  });
});
