// A server connection batches what is ready into wire messages of bounded size, and ends exactly
// once, even when the flush that closing starts with finds the client too slow and closes it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CloseCode, type ServerFrame } from '../../src/protocol/index.js';
import { Connection, SlowConsumerCheck, type ConnectionSink } from '../../src/server/connection.js';

/** A sink that records what it was asked to do; `backlog` is what it reports as not yet taken. */
function recordingSink(transport: ConnectionSink['transport']) {
  const sink = {
    transport,
    pingsWhenIdle: false,
    backlog: 0,
    written: [] as string[],
    ended: [] as [number, string][],
    write(text: string, _frames: readonly ServerFrame[]) {
      sink.written.push(text);
      sink.backlog += text.length;
    },
    pendingBytes: () => sink.backlog,
    end(code: number, reason: string) {
      sink.ended.push([code, reason]);
    },
  };
  return sink;
}

describe('Connection.close', () => {
  afterEach(() => vi.useRealTimers());

  it('splits what is ready into wire messages of at most maxBatchSize characters, in order', () => {
    vi.useFakeTimers();
    const sink = recordingSink('sse');
    const connection = new Connection('c1', '127.0.0.1', undefined, sink, { heartbeat: 25_000, maxSendBuffer: 1_000_000, maxBatchSize: 1024 }, vi.fn());
    const frames: ServerFrame[] = Array.from({ length: 10 }, (_, seq) => ({ type: 'msg', channel: 'c', epoch: 'e', seq, data: 'x'.repeat(300) }));
    // A frame bigger than maxBatchSize goes alone.
    frames.splice(5, 0, { type: 'msg', channel: 'c', epoch: 'e', seq: 99, data: 'y'.repeat(2000) });
    for (const frame of frames) connection.send(frame);
    vi.advanceTimersToNextTimer();
    expect(sink.written.length).toBeGreaterThan(3);
    for (const text of sink.written) {
      const batch = JSON.parse(text) as ServerFrame[];
      if (batch.length > 1) expect(text.length).toBeLessThanOrEqual(1024);
    }
    expect(sink.written.flatMap((text) => JSON.parse(text) as ServerFrame[])).toEqual(frames);
    connection.close(CloseCode.NORMAL, 'done');
  });

  it('a frame that cannot be encoded ends its connection with 1011 instead of throwing', () => {
    vi.useFakeTimers();
    const sink = recordingSink('sse');
    const connection = new Connection('c1', '127.0.0.1', undefined, sink, { heartbeat: 25_000, maxSendBuffer: 1_000_000, maxBatchSize: 1024 }, vi.fn());
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    connection.send({ type: 'msg', channel: 'c', epoch: 'e', seq: 1, data: circular });
    expect(() => vi.advanceTimersToNextTimer()).not.toThrow();
    expect(sink.ended).toEqual([[CloseCode.INTERNAL, expect.stringMatching(/could not be encoded/)]]);
    expect(connection.closed).toBe(true);
  });

  it('a frame that cannot be encoded is dropped when closing, which keeps its code and the other frames', () => {
    vi.useFakeTimers();
    const sink = recordingSink('sse');
    const connection = new Connection('c1', '127.0.0.1', undefined, sink, { heartbeat: 25_000, maxSendBuffer: 1_000_000, maxBatchSize: 1024 }, vi.fn());
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    connection.send({ type: 'msg', channel: 'c', epoch: 'e', seq: 1, data: 'fine' });
    connection.send({ type: 'msg', channel: 'c', epoch: 'e', seq: 2, data: circular });
    connection.close(CloseCode.SERVICE_RESTART, 'restart');
    expect(sink.written).toEqual(['[{"type":"msg","channel":"c","epoch":"e","seq":1,"data":"fine"}]']);
    expect(sink.ended).toEqual([[CloseCode.SERVICE_RESTART, 'restart']]);
  });

  it('flushes queued frames first and ends once, with the code asked for', () => {
    vi.useFakeTimers();
    const sink = recordingSink('sse');
    const closed = vi.fn();
    const connection = new Connection('c1', '127.0.0.1', undefined, sink, { heartbeat: 25_000, maxSendBuffer: 1_000_000, maxBatchSize: 262_144 }, closed);
    connection.send({ type: 'ping' });
    connection.close(CloseCode.SERVICE_RESTART, 'restart');
    connection.close(CloseCode.NORMAL, 'again');
    expect(sink.written).toEqual(['[{"type":"ping"}]']);
    expect(sink.ended).toEqual([[CloseCode.SERVICE_RESTART, 'restart']]);
    expect(closed).toHaveBeenCalledTimes(1);
    expect(connection.closed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a last flush that finds the client behind ends the connection once, as a slow consumer', () => {
    vi.useFakeTimers();
    const sink = recordingSink('websocket');
    const closed = vi.fn();
    const connection = new Connection('c1', '127.0.0.1', undefined, sink, { heartbeat: 25_000, maxSendBuffer: 100, maxBatchSize: 262_144 }, closed);
    // A burst goes out whole and the client may take it at its pace; what waits behind it
    // counts. The sink's backlog is never taken here, so once more than 16 × maxSendBuffer waits
    // behind the first burst, the next flush (the one close starts with) finds the client slow.
    connection.send({ type: 'bye', code: 1000, reason: 'x'.repeat(2000) });
    vi.advanceTimersToNextTimer();
    connection.send({ type: 'bye', code: 1000, reason: 'y'.repeat(2000) });
    vi.advanceTimersToNextTimer();
    expect(sink.written).toHaveLength(2);
    expect(sink.ended).toEqual([]);
    connection.send({ type: 'ping' });
    connection.close(CloseCode.SERVICE_RESTART, 'restart');
    expect(sink.written).toHaveLength(3);
    expect(sink.ended).toEqual([[CloseCode.SLOW_CONSUMER, expect.stringMatching(/slow consumer/)]]);
    expect(closed).toHaveBeenCalledTimes(1);
    // A WebSocket connection's heartbeat and probe timers are gone with it.
    expect(vi.getTimerCount()).toBe(0);
  });
});

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

  it('lets a burst drain at the client\'s pace while it keeps reading, with live messages behind it', () => {
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
