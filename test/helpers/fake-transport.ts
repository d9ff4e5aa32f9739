// A scriptable TransportFactory for client unit tests: every connection the client opens is
// recorded, and the test decides what happens to it (welcome, frames, failure, silence).
import { vi } from 'vitest';
import { createNegotiation } from '../../src/client/negotiation.js';
import { createClient } from '../../src/core.js';
import type { Client, ClientEvents, CoreClientOptions, LifelineError, StateChange } from '../../src/core.js';
import type { TransportContext, TransportFactory, TransportName } from '../../src/transports/transport.js';

/** One connection the client opened through a fake transport. */
export interface FakeConnection {
  readonly name: TransportName;
  readonly context: TransportContext;
  /** Wire messages the client sent, decoded: one array of frames per message. */
  readonly sent: Record<string, unknown>[][];
  /** True once the client called `close()` on it. */
  closed: boolean;
  /** Every frame sent so far, flattened, optionally only those of one type. */
  frames(type?: string): Record<string, unknown>[];
  /** Delivers the welcome frame (fields override the defaults: heartbeat 25 s). */
  welcome(fields?: Record<string, unknown>): void;
  /** Delivers frames as one wire message. */
  deliver(...frames: Record<string, unknown>[]): void;
  /** Delivers raw wire text. */
  raw(text: string): void;
  /** Reports the end of the connection, as a transport does when it drops. */
  fail(code?: number, reason?: string): void;
}

/**
 * Fake transports for the names given, and every connection opened through them, in order.
 * Like the real ones, the `sse` and `longpoll` fakes bring the negotiation policy.
 */
export function fakeTransports(names: TransportName[] = ['websocket', 'sse', 'longpoll']) {
  const connections: FakeConnection[] = [];
  const factories: TransportFactory[] = names.map((name) =>
    Object.assign(
      (context: TransportContext) => {
        const sent: Record<string, unknown>[][] = [];
        const connection: FakeConnection = {
          name,
          context,
          sent,
          closed: false,
          frames: (type) => sent.flat().filter((frame) => type === undefined || frame.type === type),
          welcome: (fields) =>
            connection.deliver({ type: 'welcome', v: 1, cid: `c${connections.length}`, heartbeat: 25_000, time: Date.now(), ...fields }),
          deliver: (...frames) => context.onMessage(JSON.stringify(frames)),
          raw: (text) => context.onMessage(text),
          // Deliberately unguarded: a test may call back after close() to prove the client ignores it.
          fail: (code = 1006, reason = '') => context.onClose({ code, reason }),
        };
        connections.push(connection);
        return {
          send: (text: string) => void sent.push(JSON.parse(text) as Record<string, unknown>[]),
          close: () => {
            connection.closed = true;
          },
        };
      },
      // As the real factories: the fallback transports carry the negotiation policy.
      name === 'websocket' ? { transportName: name } : { transportName: name, negotiation: createNegotiation },
    ),
  );
  return {
    factories,
    connections,
    /** The most recent connection (optionally of one transport). */
    last(name?: TransportName): FakeConnection {
      const found = connections.filter((c) => name === undefined || c.name === name).at(-1);
      if (!found) throw new Error(`no ${name ?? ''} connection was opened`);
      return found;
    },
  };
}

/** Lets promise callbacks (such as an async token) run under fake timers. */
export const flush = () => vi.advanceTimersByTimeAsync(0);

/** A client over fake transports, with everything it emitted recorded. */
export function fakeClient(options: Partial<CoreClientOptions> = {}, names?: TransportName[]) {
  const fake = fakeTransports(names);
  const client: Client = createClient('https://example.test/rt', {
    rememberTransport: false,
    random: () => 0.5,
    ...options,
    transports: options.transports ?? fake.factories,
  });
  const states: StateChange[] = [];
  const transports: (TransportName | null)[] = [];
  const errors: LifelineError[] = [];
  client.on('state', (change) => void states.push(change));
  client.on('transport', (name) => void transports.push(name));
  client.on('error', ((error) => void errors.push(error)) satisfies ClientEvents['error']);
  return { client, fake, states, transports, errors };
}
