import type { ServerResponse } from 'node:http';
import { CloseCode, ErrorCode, type ByeFrame, type ServerFrame } from '../protocol/index.js';
import { fittingCount, type Connection, type ConnectionSink } from './connection.js';
import type { ServerContext } from './context.js';

/**
 * Where the answer to one poll goes: the poll's own HTTP response, or (for a poll another
 * node received) a relay back to that node. The body is always JSON.
 */
export interface PollReply {
  /** Answers once; later calls do nothing. */
  answer(status: number, body: string): void;
  /** Calls `listener` if the asker goes away before the answer. */
  onClose(listener: () => void): void;
}

/** A {@link PollReply} that writes to an HTTP response. */
export function httpPollReply(res: ServerResponse): PollReply {
  return {
    answer(status, body) {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-store',
      });
      res.end(body);
    },
    onClose(listener) {
      res.once('close', listener);
    },
  };
}

const replyError = (reply: PollReply, status: number, code: ErrorCode, message: string) =>
  reply.answer(status, JSON.stringify({ error: { code, message } }));

interface PendingPoll {
  res: PollReply;
  ack: number;
  timer: NodeJS.Timeout;
}

/**
 * The server end of one long-poll connection. Frames are numbered 1, 2, 3 … and kept until a
 * poll acknowledges them, so a poll repeated with the same `ack` gets the same frames again.
 */
class LongPollSink implements ConnectionSink {
  readonly transport = 'longpoll' as const;
  readonly pingsWhenIdle = false;
  connection: Connection | undefined;
  /** Encoded unacknowledged frames; `frames[i]` is frame number `acked + 1 + i`. */
  private frames: string[] = [];
  private bytes = 0;
  private acked = 0;
  private pending: PendingPoll | undefined;
  private expiry: NodeJS.Timeout | undefined;
  ended = false;
  /** Set when the backlog was thrown away: every poll gets just the final `bye`. */
  private byeOnly = false;
  /** Until the first poll the cid is a ticket, worth only `ticketLimit` ms. */
  private polled = false;

  constructor(
    private readonly hold: number,
    private readonly idleLimit: number,
    /** How long (handshakeTimeout) a connection may wait for its first poll. */
    private readonly ticketLimit: number,
    /** Largest poll answer in characters (maxBatchSize); the rest waits for the next poll. */
    private readonly maxAnswer: number,
    private readonly onGone: () => void,
  ) {
    this.armExpiry();
  }

  write(_text: string, frames: readonly ServerFrame[]): void {
    for (const frame of frames) this.push(JSON.stringify(frame));
    this.answer();
  }

  pendingBytes(): number {
    return this.bytes;
  }

  end(bye: ByeFrame): void {
    if (this.ended) return;
    this.ended = true;
    // A slow consumer's backlog is what got it dropped; it only needs to hear why, whatever
    // part of the backlog it has already seen.
    if (bye.code === CloseCode.SLOW_CONSUMER) {
      this.frames = [];
      this.bytes = 0;
      this.byeOnly = true;
    }
    this.push(JSON.stringify(bye));
    this.answer();
    // Keep the bye around for a poll that is on its way, then forget the connection.
    this.armExpiry();
  }

  /** Answers `GET poll?ack=` (the caller checked `ack` is a whole number). */
  poll(res: PollReply, ack: number): void {
    this.polled = true;
    if (this.byeOnly && ack >= this.acked) {
      respond(res, this.frames);
      return;
    }
    const last = this.acked + this.frames.length;
    if (ack > last || ack < this.acked) {
      replyError(res, 400, ErrorCode.BAD_FRAME, `ack=${ack} is outside the frames of this connection (${this.acked}–${last})`);
      return;
    }
    const dropped = this.frames.splice(0, ack - this.acked);
    for (const text of dropped) this.bytes -= text.length;
    this.acked = ack;
    this.release([]);
    clearTimeout(this.expiry);
    const timer = setTimeout(() => this.release([]), this.hold);
    this.pending = { res, ack, timer };
    res.onClose(() => {
      if (this.pending?.res !== res) return;
      clearTimeout(timer);
      this.pending = undefined;
      this.armExpiry();
    });
    this.answer();
  }

  /** Answers a pending poll with an empty message (a newer poll, shutdown, or the hold ran out). */
  release(frames: string[]): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    respond(pending.res, frames);
    this.armExpiry();
  }

  private push(text: string): void {
    this.frames.push(text);
    this.bytes += text.length;
  }

  private answer(): void {
    if (this.frames.length === 0) return;
    // The oldest frames up to maxAnswer: the client acks them and polls again at once for the
    // rest, so no answer is bigger than a client accepts.
    this.release(this.frames.slice(0, fittingCount(this.frames, this.maxAnswer)));
  }

  /**
   * Without a poll for `heartbeat + longPollHold` the client is gone. A connection never polled
   * is a ticket nobody used: it ends after `handshakeTimeout` and is forgotten at once, so
   * tickets fetched and abandoned hold their address's slots for seconds, not a minute.
   */
  private armExpiry(): void {
    clearTimeout(this.expiry);
    if (this.pending) return;
    if (!this.polled) {
      this.expiry = setTimeout(() => {
        this.connection?.close(CloseCode.HANDSHAKE_TIMEOUT, 'no poll within handshakeTimeout');
        this.onGone();
      }, this.ticketLimit);
      return;
    }
    this.expiry = setTimeout(() => {
      if (this.ended) this.onGone();
      else this.connection?.close(CloseCode.HEARTBEAT_TIMEOUT, 'no poll within heartbeat + longPollHold');
    }, this.idleLimit);
  }

  /** Drops timers and any pending poll without answering (final shutdown). */
  dispose(): void {
    clearTimeout(this.expiry);
    if (this.pending) this.release([]);
    clearTimeout(this.expiry);
  }
}

function respond(res: PollReply, frames: readonly string[]): void {
  res.answer(200, `[${frames.join(',')}]`);
}

/** `GET {path}/poll?cid=&ack=`: long polling, with connections opened by `POST {path}/connect`. */
export class LongPollEndpoint {
  private readonly sinks = new Map<string, LongPollSink>();

  constructor(private readonly context: ServerContext) {}

  /** Opens a connection for an authenticated client whose IP slot is already taken; `welcome` waits for the first poll. */
  start(principal: unknown, ip: string): string {
    const { options } = this.context;
    const cid = this.context.newCid();
    const sink = new LongPollSink(
      Math.min(options.longPollHold, options.heartbeat),
      options.heartbeat + options.longPollHold,
      options.handshakeTimeout,
      options.maxBatchSize,
      () => {
        sink.dispose();
        if (this.sinks.get(cid) === sink) this.sinks.delete(cid);
      },
    );
    this.sinks.set(cid, sink);
    sink.connection = this.context.open(cid, ip, principal, sink);
    return cid;
  }

  /** Answers a poll. */
  poll(res: PollReply, cid: string, ackParam: string | null): void {
    const sink = this.sinks.get(cid);
    if (!sink) {
      replyError(res, 404, ErrorCode.UNKNOWN_CONNECTION, 'Unknown or expired cid');
      return;
    }
    const ack = Number(ackParam ?? 'NaN');
    if (!/^\d{1,15}$/.test(ackParam ?? '') || !Number.isSafeInteger(ack)) {
      replyError(res, 400, ErrorCode.BAD_FRAME, '"ack" must be a whole number ≥ 0');
      return;
    }
    sink.poll(res, ack);
  }

  /** Forgets every connection (the server has already closed them, answering pending polls with `bye`). */
  close(): void {
    for (const sink of this.sinks.values()) sink.dispose();
    this.sinks.clear();
  }
}
