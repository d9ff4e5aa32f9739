import { serverDefaults, type ServerOptions } from '../server/options.js';
import { TestServerError } from './errors.js';

/**
 * Options of `createTestServer`: every option of the reference server except `broker` (a test
 * server always runs on memory brokers it can make forget), plus where to listen and how long
 * waits wait.
 */
export interface TestServerOptions<Principal = unknown> extends Omit<ServerOptions<Principal>, 'broker'> {
  /**
   * Loopback address to listen on: `'127.0.0.1'` or `'::1'`. Anything else is refused with
   * `NOT_LOOPBACK`: a test server has no authentication of its own and must not be reachable
   * from the network.
   * @default '127.0.0.1'
   */
  host?: '127.0.0.1' | '::1';
  /**
   * Port to listen on; 0 picks a free one. `restart()` comes back on the same port.
   * @default 0
   */
  port?: number;
  /**
   * Default timeout (ms) of `waitForConnection` and `waitForPublish`.
   * @default 5000
   */
  timeout?: number;
  /**
   * Origins allowed besides the server's own; the page under test usually comes from another
   * origin (the app's dev server), so a test server allows every origin unless told otherwise.
   * @default ['*']
   */
  allowOrigins?: string[];
  /**
   * Shortest window (ms) over which clients spread their reconnects after `restart()`: none by
   * default, so the app under test comes back at once (a production server asks for 5 s at least).
   * @default 0
   */
  minRestartSpread?: number;
}

/** Options of `createTestServer` once defaults are applied. */
export interface ResolvedTestOptions {
  host: '127.0.0.1' | '::1';
  port: number;
  timeout: number;
  path: string;
  server: ServerOptions;
  history: Pick<ServerOptions, 'historySize' | 'historyTtl' | 'dedupTtl'>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1']);

/** Applies defaults and refuses a host that is not loopback and a port or timeout that is not usable. */
export function resolveTestOptions(options: TestServerOptions<unknown>): ResolvedTestOptions {
  const { host = '127.0.0.1', port = 0, timeout = 5000, allowOrigins = ['*'], minRestartSpread = 0, ...server } = options;
  if (!LOOPBACK.has(host)) {
    throw new TestServerError('NOT_LOOPBACK', `createTestServer: host must be '127.0.0.1' or '::1', got ${JSON.stringify(host)}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TestServerError('BAD_OPTION', `createTestServer: port must be a whole number 0–65535, got ${String(port)}`);
  }
  if (!Number.isFinite(timeout) || timeout < 0) {
    throw new TestServerError('BAD_OPTION', `createTestServer: timeout must be a number of ms ≥ 0, got ${String(timeout)}`);
  }
  if ('broker' in server) {
    throw new TestServerError('BAD_OPTION', 'createTestServer: broker is not an option (a test server uses memory brokers)');
  }
  const { historySize, historyTtl, dedupTtl } = server;
  return {
    host,
    port,
    timeout,
    path: server.path ?? serverDefaults.path,
    server: { ...server, allowOrigins, minRestartSpread },
    history: { historySize, historyTtl, dedupTtl },
  };
}
