import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CloseCode, ErrorCode, PROTOCOL_VERSION, encodeWire, isProblem, validateClientFrame, type ErrorFrame } from '../protocol/index.js';
import type { ConnectionSink } from './connection.js';
import { newCid, type ServerContext } from './context.js';
import { acceptFrames, maxWaitingFrames, maxWireSize, receiveFrames, screenFrames, splitWire } from './inbound.js';

/** How long a closing WebSocket may take to finish its close handshake before it is cut. */
const CLOSE_GRACE_MS = 1000;

/** Writes a bare HTTP error on an upgrade socket (no WebSocket is made) and ends it. */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = { 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' }[status] ?? 'Error';
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n${extra}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  socket.once('finish', () => socket.destroy());
}

const text = (data: RawData): string =>
  Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');

/** Closes a socket that broke the handshake, with the error frame that says why. */
function refuse(ws: WebSocket, code: ErrorCode, message: string, closeCode: number): void {
  const frame: ErrorFrame = { type: 'error', code, message };
  ws.send(encodeWire([frame]));
  ws.close(closeCode, message.slice(0, 120));
}

/**
 * The WebSocket endpoint `{path}/ws`: the server checks Origin, the per-IP limit and shutdown
 * before upgrading, then waits up to `handshakeTimeout` for `hello`, authenticates its token
 * and turns the socket into a connection.
 */
export class WebSocketEndpoint {
  private readonly wss: WebSocketServer;

  constructor(private readonly context: ServerContext) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: maxWireSize(context.options),
      // Compression would cost CPU per connection and opens compression-oracle attacks.
      perMessageDeflate: false,
      clientTracking: false,
    });
  }

  /** Upgrades a request whose Origin, IP slot (already taken) and shutdown state were checked. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, ip: string): void {
    // ws answers a malformed handshake itself (400) and never calls back: free the slot then.
    let upgraded = false;
    socket.once('close', () => {
      if (!upgraded) this.context.limiter.release(ip);
    });
    // The request comes back as the callback's argument: a closure over `request` here would
    // share this scope with the close listener above and keep the request for the socket's life.
    this.wss.handleUpgrade(request, socket, head, (ws, upgradeRequest) => {
      upgraded = true;
      // Counted where bytes are read, not per message: a big message costs the address its
      // budget as it arrives, and pausing the WebSocket leaves the rest in the kernel.
      this.context.meter.watch(ip, socket, ws);
      this.handshake(ws, upgradeRequest, ip);
    });
  }

  private handshake(ws: WebSocket, request: IncomingMessage, ip: string): void {
    const { context } = this;
    const { options } = context;
    // Only authenticate needs the request: held here (not by the closures, which live as long
    // as the socket) and let go once it has it, so an open WebSocket keeps no request alive.
    let pendingRequest: IncomingMessage | undefined = request;
    // Until a connection is open the socket holds its IP slot itself; afterwards the connection does.
    let connected = false;
    let helloSeen = false;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    context.track(closed);
    // Let go once cleared: the closures of this scope live as long as the socket, and would keep
    // the spent Timeout (120 B a connection) with them.
    let timer: NodeJS.Timeout | undefined = setTimeout(() => {
      if (!helloSeen) refuse(ws, ErrorCode.BAD_FRAME, 'No hello within handshakeTimeout', CloseCode.HANDSHAKE_TIMEOUT);
    }, options.handshakeTimeout);
    const endTimer = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    const stop = () => {
      if (!connected) ws.close(CloseCode.SERVICE_RESTART, 'server restart');
    };
    context.stopHooks.add(stop);
    void closed.then(() => {
      endTimer();
      context.stopHooks.delete(stop);
      if (!connected) context.limiter.release(ip);
    });
    ws.on('error', () => ws.terminate());

    ws.once('message', (data) => {
      helloSeen = true;
      endTimer();
      const firstMessage = text(data);
      const frames = parseFirstMessage(firstMessage);
      const hello = frames === undefined ? undefined : validateClientFrame(frames[0]);
      if (hello === undefined || isProblem(hello) || hello.type !== 'hello') {
        refuse(ws, ErrorCode.BAD_FRAME, 'The first frame must be "hello"', CloseCode.PROTOCOL_ERROR);
        return;
      }
      if (hello.v !== PROTOCOL_VERSION) {
        refuse(
          ws,
          ErrorCode.UNSUPPORTED_VERSION,
          `Protocol version ${hello.v} is not supported; this server speaks ${PROTOCOL_VERSION}`,
          CloseCode.PROTOCOL_ERROR,
        );
        return;
      }
      // Messages that arrive while authenticate runs are kept and handled in order afterwards.
      const early: string[] = [];
      const keep = (more: RawData) => {
        if (early.push(text(more)) > maxWaitingFrames(options))
          ws.close(CloseCode.POLICY_VIOLATION, 'too many messages before authentication');
      };
      ws.on('message', keep);
      const upgradeRequest = pendingRequest!;
      pendingRequest = undefined;
      void context.authenticate(hello.token, 'websocket', upgradeRequest).then((auth) => {
        ws.off('message', keep);
        if (ws.readyState !== ws.OPEN) return;
        if (!auth.ok) {
          refuse(ws, ErrorCode.UNAUTHORIZED, 'Authentication failed', CloseCode.UNAUTHORIZED);
          return;
        }
        connected = true;
        context.stopHooks.delete(stop);
        const connection = context.open(newCid(), ip, auth.principal, this.sink(ws));
        void closed.then(() => connection.close(1006, 'connection lost'));
        // Whatever a message holds, handling it must not throw out of a listener (that would end
        // the process and every other connection): a surprise ends this connection alone.
        const guarded = (handle: () => void) => {
          try {
            handle();
          } catch {
            connection.close(CloseCode.INTERNAL, 'internal error');
          }
        };
        const receive = (message: string) =>
          guarded(() => {
            connection.received();
            const rest = splitWire(connection, message, options);
            // Counted as they arrive, not when the inbox gets to them: a slow authorize hook
            // must not make a reading client look stalled.
            for (const raw of rest ?? []) if ((raw as { type?: unknown } | null)?.type === 'pong') connection.ponged();
            if (rest) receiveFrames(connection, rest, Buffer.byteLength(message), context);
          });
        // What a closed connection's socket still delivers (its peer may have sent megabytes
        // before the close) is not even decoded.
        ws.on('message', (more) => connection.closed || receive(text(more)));
        // The frames that followed hello in the first message, then anything sent meanwhile.
        guarded(() => {
          if (frames && frames.length > 1 && acceptFrames(connection, frames, options)) {
            receiveFrames(
              connection,
              screenFrames(connection, frames.slice(1), firstMessage, options),
              Buffer.byteLength(firstMessage),
              context,
            );
          }
        });
        for (const message of early) receive(message);
      });
    });
  }

  private sink(ws: WebSocket): ConnectionSink {
    return {
      transport: 'websocket',
      pingsWhenIdle: true,
      write: (message) => ws.send(message),
      pendingBytes: () => ws.bufferedAmount,
      end: (bye) => {
        if (ws.readyState === ws.CLOSED) return;
        // The same `bye` as on SSE and long polling, so a client learns why from a frame
        // whatever its platform reports of the close code.
        if (ws.readyState === ws.OPEN) ws.send(encodeWire([bye]));
        ws.close(bye.code, bye.reason.slice(0, 120));
        // A slow or vanished peer may never finish the close handshake.
        const cut = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
        ws.once('close', () => clearTimeout(cut));
      },
    };
  }

  /** Stops accepting upgrades. */
  close(): void {
    this.wss.close();
  }
}

/** Parses the first message, which has no connection to report problems to yet. */
function parseFirstMessage(message: string): unknown[] | undefined {
  try {
    const parsed: unknown = JSON.parse(message);
    return Array.isArray(parsed) && parsed.length > 0 ? parsed : undefined;
  } catch {
    return undefined;
  }
}
