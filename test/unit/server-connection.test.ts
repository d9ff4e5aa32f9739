// A server connection ends exactly once, even when the flush that closing starts with finds the
// client too slow and closes the connection itself.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CloseCode, type ServerFrame } from '../../src/protocol/index.js';
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
    end(code: number, reason: string) {
      sink.ended.push([code, reason]);
    },
  };
  return sink;
}

describe('Connection.close', () => {
  afterEach(() => vi.useRealTimers());

  it('flushes queued frames first and ends once, with the code asked for', () => {
    vi.useFakeTimers();
    const sink = recordingSink('sse');
    const closed = vi.fn();
    const connection = new Connection('c1', '127.0.0.1', undefined, sink, { heartbeat: 25_000, maxSendBuffer: 1_000_000 }, closed);
    connection.send({ type: 'ping' });
    connection.close(CloseCode.SERVICE_RESTART, 'restart');
    connection.close(CloseCode.NORMAL, 'again');
    expect(sink.written).toEqual(['[{"type":"ping"}]']);
    expect(sink.ended).toEqual([[CloseCode.SERVICE_RESTART, 'restart']]);
    expect(closed).toHaveBeenCalledTimes(1);
    expect(connection.closed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a last flush that overflows the send buffer ends the connection once, as a slow consumer', () => {
    vi.useFakeTimers();
    const sink = recordingSink('websocket');
    const closed = vi.fn();
    const connection = new Connection('c1', '127.0.0.1', undefined, sink, { heartbeat: 25_000, maxSendBuffer: 100 }, closed);
    connection.send({ type: 'bye', code: 1000, reason: 'x'.repeat(200) });
    connection.close(CloseCode.SERVICE_RESTART, 'restart');
    expect(sink.written).toHaveLength(1);
    expect(sink.ended).toEqual([[CloseCode.SLOW_CONSUMER, expect.stringMatching(/slow consumer/)]]);
    expect(closed).toHaveBeenCalledTimes(1);
    // A WebSocket connection's heartbeat and probe timers are gone with it.
    expect(vi.getTimerCount()).toBe(0);
  });
});
