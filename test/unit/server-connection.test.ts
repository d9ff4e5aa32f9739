// A server connection batches what is ready into wire messages of bounded size, and ends exactly
// once, even when the flush that closing starts with finds the client too slow and closes it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CloseCode, type ByeFrame, type ServerFrame } from '../../src/protocol/index.js';
import { Connection, type ConnectionSink } from '../../src/server/connection.js';

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
    end(bye: ByeFrame) {
      sink.ended.push([bye.code, bye.reason]);
    },
  };
  return sink;
}

describe('Connection.close', () => {
  afterEach(() => vi.useRealTimers());

  it('splits what is ready into wire messages of at most maxBatchSize characters, in order', () => {
    vi.useFakeTimers();
    const sink = recordingSink('sse');
    const connection = new Connection(
      'c1',
      '127.0.0.1',
      undefined,
      sink,
      { heartbeat: 25_000, maxSendBuffer: 1_000_000, maxBatchSize: 1024 },
      vi.fn(),
    );
    const frames: ServerFrame[] = Array.from({ length: 10 }, (_, seq) => ({
      type: 'msg',
      channel: 'c',
      epoch: 'e',
      seq,
      data: 'x'.repeat(300),
    }));
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
    const connection = new Connection(
      'c1',
      '127.0.0.1',
      undefined,
      sink,
      { heartbeat: 25_000, maxSendBuffer: 1_000_000, maxBatchSize: 1024 },
      vi.fn(),
    );
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
    const connection = new Connection(
      'c1',
      '127.0.0.1',
      undefined,
      sink,
      { heartbeat: 25_000, maxSendBuffer: 1_000_000, maxBatchSize: 1024 },
      vi.fn(),
    );
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
    const connection = new Connection(
      'c1',
      '127.0.0.1',
      undefined,
      sink,
      { heartbeat: 25_000, maxSendBuffer: 1_000_000, maxBatchSize: 262_144 },
      closed,
    );
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
    const connection = new Connection(
      'c1',
      '127.0.0.1',
      undefined,
      sink,
      { heartbeat: 25_000, maxSendBuffer: 100, maxBatchSize: 262_144 },
      closed,
    );
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
