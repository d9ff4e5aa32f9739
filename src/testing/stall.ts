import type { Socket } from 'node:net';

type Write = Socket['write'];
type Deferred = () => void;

/**
 * Makes one socket a zombie, in place: nothing is read from the client and nothing the server
 * writes leaves, as when a NAT forgot the connection. The server's attempts to end the socket
 * are held too (a WebSocket server cuts a silent peer after twice its heartbeat): a real
 * zombie's FIN never reaches the client either, so the client must find out by its heartbeat.
 * {@link release} lets everything held go out in order, as when the path comes back.
 */
export class SocketStall {
  private held: Deferred[] = [];
  private restore: Deferred | undefined;
  /** Whether someone else (the HTTP parser, ws) had paused the socket before the stall. */
  private wasPaused = false;

  constructor(readonly socket: Socket) {}

  /** True while the socket is stalled. */
  get stalled(): boolean {
    return this.restore !== undefined;
  }

  /** Stalls the socket (again a no-op while stalled, or once it is destroyed). */
  stall(): void {
    const { socket } = this;
    if (this.restore || socket.destroyed) return;
    this.wasPaused = socket.isPaused();
    socket.pause();
    const own = {
      write: Object.hasOwn(socket, 'write') ? socket.write : undefined,
      end: Object.hasOwn(socket, 'end') ? socket.end : undefined,
      destroy: Object.hasOwn(socket, 'destroy') ? socket.destroy : undefined,
    };
    const write = socket.write;
    const end = socket.end;
    const destroy = socket.destroy;
    socket.write = ((...args: Parameters<Write>) => {
      this.held.push(() => write.apply(socket, args));
      return true;
    }) as Write;
    socket.end = ((...args: unknown[]) => {
      this.held.push(() => (end as (...a: unknown[]) => void).apply(socket, args));
      return socket;
    }) as Socket['end'];
    socket.destroy = ((error?: Error) => {
      this.held.push(() => destroy.call(socket, error));
      return socket;
    }) as Socket['destroy'];
    this.restore = () => {
      for (const name of ['write', 'end', 'destroy'] as const) {
        if (own[name]) (socket as unknown as Record<string, unknown>)[name] = own[name];
        else delete (socket as unknown as Record<string, unknown>)[name];
      }
    };
  }

  /** Lets held writes and ends go out in order and reading resume. */
  release(): void {
    const restore = this.restore;
    if (!restore) return;
    this.restore = undefined;
    restore();
    for (const deferred of this.held.splice(0)) deferred();
    if (!this.socket.destroyed && !this.wasPaused) this.socket.resume();
  }

  /** Cuts the socket for real, dropping whatever was held (a drop, or the kit closing). */
  destroy(): void {
    this.restore?.();
    this.restore = undefined;
    this.held = [];
    this.socket.destroy();
  }
}
