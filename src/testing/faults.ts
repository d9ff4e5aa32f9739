import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AuthenticateContext, ServerOptions, ServerTransport } from '../server/options.js';

/** What {@link Faults} does to new attempts on a transport. */
export type AttemptFault = 'refuse' | 'blackhole';

const REFUSED = 'Refused by the test server (refuse)';

/**
 * Refused and blackholed transports. A new attempt is caught where it starts: the WebSocket
 * upgrade, and `POST /connect` for SSE and long polling (its body names the transport, so the
 * server's `authenticate` hook, which is told the transport, is where the kit looks). Nothing of
 * the server changes: a refused attempt gets a 503 with `Connection: close`, as from a proxy
 * that refuses it, and a blackholed one is accepted and never answered.
 */
export class Faults {
  private readonly modes = new Map<ServerTransport, AttemptFault>();
  /** `POST /connect` requests in flight, so the hook can answer one itself. */
  private readonly answers = new WeakMap<IncomingMessage, ServerResponse>();
  /** Blackholed attempts: upgrade sockets held open, and hooks that never return. */
  private readonly heldSockets = new Set<Duplex>();
  private readonly hung = new Set<() => void>();

  /** Sets the fault for new attempts on `transport`. */
  set(transport: ServerTransport, fault: AttemptFault): void {
    this.modes.set(transport, fault);
  }

  /** Lets new attempts on `transport` (every transport when omitted) through again. */
  clear(transport?: ServerTransport): void {
    if (transport === undefined) this.modes.clear();
    else this.modes.delete(transport);
  }

  /** The current faults by transport. */
  current(): Partial<Record<ServerTransport, AttemptFault>> {
    return Object.fromEntries(this.modes);
  }

  /** Remembers the response of a `POST /connect`, so a refusal can answer it. */
  noteConnect(req: IncomingMessage, res: ServerResponse): void {
    this.answers.set(req, res);
  }

  /** Handles a WebSocket upgrade if its transport is refused or blackholed; false passes it on. */
  upgrade(socket: Duplex): boolean {
    const fault = this.modes.get('websocket');
    if (fault === 'refuse') {
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: ${REFUSED.length}\r\nConnection: close\r\n\r\n${REFUSED}`,
      );
      socket.once('finish', () => socket.destroy());
      return true;
    }
    if (fault === 'blackhole') {
      this.heldSockets.add(socket);
      socket.once('close', () => this.heldSockets.delete(socket));
      return true;
    }
    return false;
  }

  /** Wraps the app's `authenticate` hook so SSE and long-poll attempts meet their transport's fault first. */
  authenticate<P>(hook: ServerOptions<P>['authenticate']): NonNullable<ServerOptions<P>['authenticate']> {
    return async (context: AuthenticateContext) => {
      const fault = context.transport === 'websocket' ? undefined : this.modes.get(context.transport);
      if (fault === 'refuse') {
        const res = this.answers.get(context.request);
        if (res && !res.headersSent) {
          res.writeHead(503, { 'Content-Type': 'text/plain', Connection: 'close' }).end(REFUSED);
        }
        // The server's 401 finds the response already sent and writes nothing.
        return false;
      }
      if (fault === 'blackhole') {
        const res = this.answers.get(context.request);
        await new Promise<void>((resolve) => {
          const done = () => {
            this.hung.delete(done);
            resolve();
          };
          this.hung.add(done);
          // A client that gave up needs no answer, and nothing is left waiting for it.
          res?.once('close', done);
        });
        // Never answered: when the kit lets go (it is stopping) the socket is cut, not answered.
        res?.destroy();
        return false;
      }
      // Without an app hook everyone is accepted, as by a server without one.
      return hook ? hook(context) : (undefined as P);
    };
  }

  /** Ends every blackholed attempt (the server is stopping): sockets are cut, hooks return. */
  release(): void {
    for (const socket of [...this.heldSockets]) socket.destroy();
    for (const done of [...this.hung]) done();
  }
}
