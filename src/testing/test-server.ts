import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { answerOutside } from '../server/landing.js';
import { createServer, type LifelineServer } from '../server/server.js';
import { TestBroker } from './broker.js';
import { TestServerError } from './errors.js';
import { Faults } from './faults.js';
import { resolveTestOptions, type ResolvedTestOptions, type TestServerOptions } from './options.js';
import { Traffic } from './traffic.js';
import type { TestConnection, TestServer, TestTransport } from './types.js';
import { Waits } from './waits.js';

const transports: readonly TestTransport[] = ['websocket', 'sse', 'longpoll'];

const checkTransport = (name: string, transport: unknown): TestTransport => {
  if (transports.includes(transport as TestTransport)) return transport as TestTransport;
  throw new TestServerError('BAD_OPTION', `${name}: transport must be 'websocket', 'sse' or 'longpoll', got ${JSON.stringify(transport)}`);
};

/** The request's URL, or undefined when it cannot be parsed. */
function parseUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/** One life of the server between starts and stops: `restart()` makes a new one. */
interface Life {
  realtime: LifelineServer;
  broker: TestBroker;
  http: Server;
  sockets: Set<Socket>;
}

/** A short, bounded rendering of a value for error messages. */
const show = (value: unknown): string => {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/**
 * Starts a real Lifeline server on 127.0.0.1 (a free port, memory brokers) with fault controls
 * and waits, for an app's test suite. Server options pass through; every origin is allowed
 * unless `allowOrigins` is given. Rejects with `NOT_LOOPBACK` for a host that is not loopback.
 */
export async function createTestServer<Principal = unknown>(options: TestServerOptions<Principal> = {}): Promise<TestServer> {
  const resolved = resolveTestOptions(options as TestServerOptions);
  const records = new Map<string, unknown[]>();
  const faults = new Faults();
  const traffic = new Traffic();
  const waits = new Waits();
  const authenticate = faults.authenticate(resolved.server.authenticate);
  let life: Life | undefined = await start(resolved, resolved.port);
  const port = (life.http.address() as AddressInfo).port;
  const hostPart = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  const url = `http://${hostPart}:${port}${resolved.path}`;
  let restarting: Promise<void> | undefined;
  let closing: Promise<void> | undefined;

  function start(settings: ResolvedTestOptions, onPort: number): Promise<Life> {
    const broker = new TestBroker(settings.history, (channel, data) => {
      const list = records.get(channel) ?? [];
      records.set(channel, list);
      list.push(data);
    });
    const realtime = createServer({ ...settings.server, authenticate, broker });
    // The server is mounted on an http server that never listens: the kit's own server sees
    // every request first and hands on those that no fault stops.
    const inner = createHttpServer((req, res) => {
      const outside = () => answerOutside(req, res, settings.path, settings.server.apiKey !== undefined);
      if (settings.server.fallback) settings.server.fallback(req, res, outside);
      else outside();
    });
    realtime.attach(inner);
    const sockets = new Set<Socket>();
    const http = createHttpServer((req, res) => onRequest(settings, inner, req, res));
    http.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => onUpgrade(settings, inner, req, socket as Socket, head));
    http.on('clientError', (_error, socket: Duplex) => socket.destroy());
    return new Promise<Life>((resolve, reject) => {
      const failed = (error: Error) => {
        void realtime.close();
        void broker.close();
        reject(error);
      };
      http.once('error', failed);
      http.listen(onPort, settings.host, () => {
        http.off('error', failed);
        resolve({ realtime, broker, http, sockets });
      });
    });
  }

  function onRequest(settings: ResolvedTestOptions, inner: Server, req: IncomingMessage, res: ServerResponse): void {
    const pass = () => void inner.emit('request', req, res);
    const parsed = parseUrl(req);
    if (!parsed?.pathname.startsWith(`${settings.path}/`)) return pass();
    const endpoint = parsed.pathname.slice(settings.path.length);
    if (endpoint === '/connect' && req.method === 'POST') faults.noteConnect(req, res);
    traffic.request(req, res, endpoint, parsed.searchParams.get('cid'), pass);
  }

  function onUpgrade(settings: ResolvedTestOptions, inner: Server, req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (parseUrl(req)?.pathname !== `${settings.path}/ws`) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    if (faults.upgrade(socket)) return;
    traffic.upgrade(socket);
    inner.emit('upgrade', req, socket, head);
  }

  async function stop(ending: Life): Promise<void> {
    traffic.reset();
    faults.release();
    await ending.realtime.close();
    await new Promise<void>((resolve) => {
      ending.http.close(() => resolve());
      ending.http.closeAllConnections();
      for (const socket of ending.sockets) socket.destroy();
    });
    await ending.broker.close();
  }

  /** Listens on `port` again; a port just released can be busy for a moment (a bounded retry). */
  async function startAgain(): Promise<Life> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        return await start(resolved, port);
      } catch (error) {
        lastError = error;
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    throw new TestServerError('RESTART_FAILED', `restart: could not listen on ${resolved.host}:${port} again`, lastError);
  }

  const ready = async (what: string): Promise<Life> => {
    if (closing) throw new TestServerError('CLOSED', `${what}: the test server is closed`);
    await restarting;
    if (!life) throw new TestServerError('CLOSED', `${what}: the test server is closed`);
    return life;
  };

  const snapshot = (): TestConnection[] =>
    (life?.realtime.describeConnections() ?? [])
      .filter((info) => !traffic.isDropped(info.cid))
      .map((info) => ({ ...info, stalled: traffic.isStalled(info.cid) }));

  const summarize = (list: readonly TestConnection[]): string =>
    list.length === 0
      ? 'no open connection'
      : `${list.length} open: ${list.map((c) => `${c.transport} [${c.channels.join(', ')}]${c.stalled ? ' (stalled)' : ''}`).join('; ')}`;

  const openNow = () => life?.realtime.describeConnections() ?? [];

  return {
    url,
    port,
    async publish(channel, data) {
      const current = await ready('publish');
      return current.realtime.publish(channel, data, current.broker.ownPublish());
    },
    waitForConnection({ transport, channel, timeout = resolved.timeout } = {}) {
      if (transport !== undefined) checkTransport('waitForConnection', transport);
      const wanted = [transport ?? 'any transport', channel === undefined ? '' : `subscribed to "${channel}"`].filter(Boolean).join(', ');
      return waits.until({
        awaited: `an open connection (${wanted})`,
        check: () =>
          snapshot().find(
            (c) =>
              !c.stalled &&
              (transport === undefined || c.transport === transport) &&
              (channel === undefined || c.channels.includes(channel)),
          ),
        seen: () => summarize(snapshot()),
        timeout,
      });
    },
    get connections() {
      return snapshot();
    },
    refuse(transport) {
      faults.set(checkTransport('refuse', transport), 'refuse');
    },
    blackhole(transport) {
      faults.set(checkTransport('blackhole', transport), 'blackhole');
    },
    allow(transport) {
      faults.clear(transport === undefined ? undefined : checkTransport('allow', transport));
    },
    drop({ transport } = {}) {
      const chosen = new Set(transport === undefined ? transports : [checkTransport('drop', transport)]);
      return traffic.drop(chosen, openNow());
    },
    stall() {
      return traffic.stall(openNow());
    },
    unstall() {
      traffic.unstall();
    },
    forgetHistory(channel) {
      if (channel !== undefined && (typeof channel !== 'string' || channel.length === 0)) {
        throw new TestServerError('BAD_OPTION', `forgetHistory: channel must be a non-empty string, got ${show(channel)}`);
      }
      life?.broker.forget(channel);
    },
    restart() {
      if (closing) return Promise.reject(new TestServerError('CLOSED', 'restart: the test server is closed'));
      restarting ??= (async () => {
        const ending = life;
        life = undefined;
        try {
          if (ending) await stop(ending);
          life = await startAgain();
        } finally {
          restarting = undefined;
        }
      })();
      return restarting;
    },
    published(channel) {
      return [...(records.get(channel) ?? [])];
    },
    async waitForPublish(channel, predicate, { timeout = resolved.timeout } = {}) {
      const matches = predicate ?? (() => true);
      const found = await waits.until({
        awaited: `a client publish on "${channel}"${predicate ? ' matching the predicate' : ''}`,
        check: () => {
          for (const data of records.get(channel) ?? []) if (matches(data)) return { data };
          return undefined;
        },
        seen: () => {
          const list = records.get(channel) ?? [];
          return list.length === 0
            ? `nothing published on "${channel}"`
            : `${list.length} published on "${channel}": ${list.slice(-3).map(show).join(', ')}`;
        },
        timeout,
      });
      return found.data;
    },
    close() {
      closing ??= (async () => {
        waits.abortAll('the test server was closed');
        await restarting?.catch(() => undefined);
        const ending = life;
        life = undefined;
        if (ending) await stop(ending);
      })();
      return closing;
    },
  };
}
