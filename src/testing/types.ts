import type { PublishAck } from '../server/http-api.js';
import type { ServerTransport } from '../server/options.js';

// The testing kit's public surface; test-server.ts implements it.

/** A transport name, as the client's `transports` option and the server use it. */
export type TestTransport = ServerTransport;

/** One open connection, as {@link TestServer.connections} lists it. */
export interface TestConnection {
  /** The connection id the server announced in `welcome`. */
  cid: string;
  transport: TestTransport;
  /** Channels with a live subscription (answered with `subscribed` or `gap`), so a publish now reaches it. */
  channels: string[];
  /** True while {@link TestServer.stall} holds it silent. */
  stalled: boolean;
}

/** Options of {@link TestServer.waitForConnection}. */
export interface WaitForConnectionOptions {
  /**
   * Only a connection on this transport counts.
   * @default undefined (any transport)
   */
  transport?: TestTransport;
  /**
   * Only a connection with a live subscription to this channel counts.
   * @default undefined (subscriptions don't matter)
   */
  channel?: string;
  /**
   * ms to wait before rejecting with `WAIT_TIMEOUT`.
   * @default the test server's `timeout` (5000)
   */
  timeout?: number;
}

/** Options of {@link TestServer.waitForPublish}. */
export interface WaitForPublishOptions {
  /**
   * ms to wait before rejecting with `WAIT_TIMEOUT`.
   * @default the test server's `timeout` (5000)
   */
  timeout?: number;
}

/** A real Lifeline server on loopback with fault controls; made by {@link createTestServer}. */
export interface TestServer {
  /** The base URL to give the app under test, e.g. `http://127.0.0.1:40123/rt`. It survives `restart()`. */
  readonly url: string;
  /** The port it listens on (the same after `restart()`). */
  readonly port: number;
  /** Publishes from the backend side; resolves with where the message landed. */
  publish(channel: string, data: unknown): Promise<PublishAck>;
  /**
   * Resolves with an open connection (not dropped, not stalled) matching `options`, at once
   * when one is already open; rejects with `WAIT_TIMEOUT` naming what it saw otherwise.
   */
  waitForConnection(options?: WaitForConnectionOptions): Promise<TestConnection>;
  /** The open connections, oldest first (dropped ones are left out at once, before the server notices). */
  readonly connections: TestConnection[];
  /** New attempts on `transport` fail at once: 503 with `Connection: close`, as a proxy refusing it would answer. */
  refuse(transport: TestTransport): void;
  /** New attempts on `transport` hang, never answered: the client must give up on it by itself (its `stagger`). */
  blackhole(transport: TestTransport): void;
  /** Undoes `refuse`/`blackhole` for `transport`, or for every transport when omitted. Attempts already hanging stay hung. */
  allow(transport?: TestTransport): void;
  /**
   * Cuts open connections (of `transport`, or all) abruptly, as a network failure would: no
   * close frame, no `bye`. Returns how many connections were cut.
   */
  drop(options?: { transport?: TestTransport }): number;
  /**
   * Makes every open connection a zombie: silent both ways, no pings, and not even the server
   * closing it reaches the client, which must find out by its heartbeat. New connections are
   * not affected. Returns how many connections were stalled.
   */
  stall(): number;
  /** Ends every stall: what was held goes out, as when the network path comes back. */
  unstall(): void;
  /**
   * Forgets the history of `channel` (of every channel when omitted): a new epoch, seqs from 1.
   * Live subscribers get `gap` (reason `epoch`) with the channel's next message; a client that
   * resumes gets it at once.
   */
  forgetHistory(channel?: string): void;
  /**
   * Stops the server gracefully (clients get `bye` 1012) and starts a new one on the same port,
   * with new memory brokers: every channel gets a new epoch, so resuming clients get `gap`, and
   * their unacknowledged publishes are resent. Faults (`refuse`, `blackhole`) stay; stalled
   * connections are cut (what they held never reaches the server), as a zombie's socket dies
   * with the process.
   */
  restart(): Promise<void>;
  /** The data clients published on `channel`, in log order, each once (resends deduplicated; not the kit's own `publish`). */
  published(channel: string): unknown[];
  /**
   * Resolves with the first data published by a client on `channel` that matches `predicate`
   * (any data when omitted), counting what was published before the call.
   */
  waitForPublish(channel: string, predicate?: (data: unknown) => boolean, options?: WaitForPublishOptions): Promise<unknown>;
  /** Stops everything: stalled and hanging connections are cut, pending waits reject with `CLOSED`; no handle is left. */
  close(): Promise<void>;
}
