import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloseCode, ErrorCode, encodeWire } from '../protocol/index.js';
import type { Connection, ConnectionSink } from './connection.js';
import type { ServerContext } from './context.js';
import { sendError } from './http-util.js';

/** How long an ended stream may take to deliver its last bytes before its socket is cut. */
const CLOSE_GRACE_MS = 2000;

interface Ticket {
  principal: unknown;
  ip: string;
  timer: NodeJS.Timeout;
}

/**
 * `GET {path}/sse?cid=`: opens the event stream for a one-time ticket issued by `POST {path}/connect`.
 * A ticket opens one stream within `handshakeTimeout` and is worthless afterwards.
 */
export class SseEndpoint {
  private readonly tickets = new Map<string, Ticket>();

  constructor(private readonly context: ServerContext) {}

  /** Issues a ticket for an authenticated client whose IP slot is already taken. */
  issue(principal: unknown, ip: string): string {
    const cid = this.context.newCid();
    const timer = setTimeout(() => this.expire(cid), this.context.options.handshakeTimeout);
    this.tickets.set(cid, { principal, ip, timer });
    return cid;
  }

  /** Opens the stream of a ticket. */
  open(req: IncomingMessage, res: ServerResponse, cid: string): void {
    const ticket = this.take(cid);
    if (!ticket) {
      sendError(res, 404, ErrorCode.UNKNOWN_CONNECTION, 'Unknown, expired or already used cid');
      return;
    }
    startEventStream(req, res);
    this.context.track(new Promise((resolve) => res.once('close', resolve)));
    const connection = this.context.open(cid, ticket.ip, ticket.principal, sseSink(res));
    res.once('close', () => connection.close(1006, 'stream closed'));
  }

  /**
   * Opens the connection of a ticket on a sink of the caller's (a stream that another node
   * holds and relays); undefined when the ticket is unknown, expired or used.
   */
  openOn(cid: string, sink: ConnectionSink): Connection | undefined {
    const ticket = this.take(cid);
    return ticket && this.context.open(cid, ticket.ip, ticket.principal, sink);
  }

  private take(cid: string): Ticket | undefined {
    const ticket = this.tickets.get(cid);
    if (!ticket) return undefined;
    this.tickets.delete(cid);
    clearTimeout(ticket.timer);
    return ticket;
  }

  /** Forgets every ticket (shutdown). */
  close(): void {
    for (const cid of [...this.tickets.keys()]) this.expire(cid);
  }

  private expire(cid: string): void {
    const ticket = this.tickets.get(cid);
    if (!ticket) return;
    clearTimeout(ticket.timer);
    this.tickets.delete(cid);
    this.context.limiter.release(ticket.ip);
  }
}

/** Answers `GET sse` with the headers of an event stream that starts at once. */
export function startEventStream(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    'X-Accel-Buffering': 'no',
    Connection: 'keep-alive',
  });
  res.flushHeaders();
  req.socket.setNoDelay(true);
}

/** One SSE event per wire message; the `bye` frame stands in for a close code. */
export function sseSink(res: ServerResponse): ConnectionSink {
  return {
    transport: 'sse',
    pingsWhenIdle: true,
    write: (text) => {
      res.write(`data: ${text}\n\n`);
    },
    // Bytes queued in the response and its socket that the client has not taken yet.
    pendingBytes: () => res.writableLength,
    end: (bye) => {
      if (res.destroyed || res.writableEnded) return;
      res.end(`data: ${encodeWire([bye])}\n\n`);
      // A slow consumer may never drain the buffer (its `bye` is lost with it): don't keep it
      // waiting. Any other client gets a grace to take the rest, then the socket goes too, so a
      // peer that stopped reading holds neither memory nor the server's shutdown.
      if (bye.code === CloseCode.SLOW_CONSUMER) {
        res.destroy();
      } else {
        const cut = setTimeout(() => res.destroy(), CLOSE_GRACE_MS);
        res.once('close', () => clearTimeout(cut));
      }
    },
  };
}
