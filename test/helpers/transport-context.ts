// A TransportContext for driving one transport directly, recording what it reports.
import type { TransportClose, TransportContext } from '../../src/transports/transport.js';

/** The context plus everything the transport reported through it. */
export interface RecordingContext {
  ctx: TransportContext;
  messages: string[];
  closes: TransportClose[];
}

/**
 * Builds a context whose injectables read the globals at call time, so msw's patched
 * WebSocket and fetch (installed by `server.listen()`) are the ones used.
 */
export function recordingContext(url: string, overrides: Partial<TransportContext> = {}): RecordingContext {
  const messages: string[] = [];
  const closes: TransportClose[] = [];
  const ctx: TransportContext = {
    url,
    token: undefined,
    WebSocket: globalThis.WebSocket,
    EventSource: globalThis.EventSource,
    fetch: (input, init) => globalThis.fetch(input, init),
    maxMessageSize: 1_048_576,
    onMessage: (text) => messages.push(text),
    onClose: (info) => closes.push(info),
    ...overrides,
  };
  return { ctx, messages, closes };
}

/** Lets pending promise callbacks and I/O callbacks run, without waiting on a clock. */
export async function settle(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A promise with its resolve function outside, for holding a mocked answer back. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
