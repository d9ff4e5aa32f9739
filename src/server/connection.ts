import { CloseCode, type ByeFrame, type ServerFrame } from '../protocol/index.js';
import { DrainCheck } from './drain-check.js';
import { joinSweep, type SweepMember } from './heartbeat-sweep.js';
import { SlowConsumerCheck } from './slow-consumer.js';
import type { ServerTransport } from './options.js';

/**
 * The transport-specific end of a connection: how a wire message is written, how many bytes
 * are still waiting to go out, and how the transport is ended.
 */
export interface ConnectionSink {
  readonly transport: ServerTransport;
  /** Whether the server sends `ping` when idle (a long poll is its own heartbeat, so it doesn't). */
  readonly pingsWhenIdle: boolean;
  /**
   * Writes one wire message; `frames` are the frames `text` encodes, `replay` whether its flush
   * carries a resume's replay.
   */
  write(text: string, frames: readonly ServerFrame[], replay: boolean): void;
  /** Bytes written but not yet taken by the client. */
  pendingBytes(): number;
  /**
   * Ends the transport with `bye`: sent as a frame on every transport (it says why, and may
   * say more, whatever the platform reports), and as the close code where there is one.
   */
  end(bye: ByeFrame): void;
}

/** Whether a frame can be written as JSON (a broker could hand back a cycle or a BigInt). */
function encodable(frame: ServerFrame): boolean {
  try {
    JSON.stringify(frame);
    return true;
  } catch {
    return false;
  }
}

/** Settings a connection needs from the server options. */
export interface ConnectionSettings {
  heartbeat: number;
  maxSendBuffer: number;
  maxBatchSize: number;
}

/**
 * How many of `texts` (encoded frames, oldest first) fit one wire message of at most `max`
 * characters with its brackets and commas; at least one, so a larger frame still goes alone.
 */
export function fittingCount(texts: readonly string[], max: number): number {
  let count = 0;
  for (let size = 1; count < texts.length; count++) {
    size += texts[count]!.length + 1;
    if (count > 0 && size > max) break;
  }
  return count;
}

/**
 * The JSON text of frames sent to many connections alike (a message fanned out to a channel's
 * subscribers), encoded once instead of once per connection.
 */
const sharedTexts = new WeakMap<ServerFrame, { text: string; wire: string }>();

/** Encodes a frame that is about to be queued on many connections, once for all of them. */
export function shareFrame(frame: ServerFrame): void {
  try {
    const text = JSON.stringify(frame);
    // The wire message of a flush holding only this frame, the usual case in a fan-out.
    sharedTexts.set(frame, { text, wire: `[${text}]` });
  } catch {
    // Not JSON: each connection's flush finds out and ends that connection, as for any frame.
  }
}

/**
 * Encodes frames into wire messages of at most `max` characters each, in order (a frame larger
 * than `max` goes alone), with the frames each one holds. Throws when a frame is not JSON.
 */
export function batchFrames(frames: readonly ServerFrame[], max: number): [text: string, frames: ServerFrame[]][] {
  const batches: [string, ServerFrame[]][] = [];
  let texts: string[] = [];
  let batch: ServerFrame[] = [];
  // The brackets, then one comma per frame after the first.
  let size = 2;
  for (const frame of frames) {
    const text = sharedTexts.get(frame)?.text ?? JSON.stringify(frame);
    if (batch.length > 0 && size + 1 + text.length > max) {
      batches.push([`[${texts.join(',')}]`, batch]);
      texts = [];
      batch = [];
      size = 2;
    }
    size += (batch.length > 0 ? 1 : 0) + text.length;
    texts.push(text);
    batch.push(frame);
  }
  if (batch.length > 0) batches.push([`[${texts.join(',')}]`, batch]);
  return batches;
}

const isPing = (frame: ServerFrame): boolean => frame.type === 'ping';

/**
 * One client connection on any transport. Frames sent during one turn of the event loop are
 * queued and written together as one wire message in the next `setImmediate`, because
 * browsers pay per WebSocket frame, SSE event and HTTP response.
 */
export class Connection implements SweepMember {
  /** Serialises the handling of this connection's incoming wire messages. */
  inbox: Promise<void> = Promise.resolve();
  /** Serialises this connection's publishes, each retried here while the broker fails it. */
  publishing: Promise<void> = Promise.resolve();
  /** Frames received and not done yet (waiting in `inbox`, or publishes in `publishing`). */
  waitingFrames = 0;
  private queue: ServerFrame[] = [];
  private flushHandle: NodeJS.Immediate | undefined;
  /** When the last flush went out (an idle ping is due a heartbeat later). */
  private flushedAt: number;
  /** When the client last sent anything (WebSocket: silence and probe pings count from it). */
  private receivedAt: number;
  /** Whether the probe ping for the current silence is still to be sent (once per silence). */
  private probePending: boolean;
  /** Leaves the heartbeat sweep; undefined when the connection needs none (long polling). */
  private readonly leaveSweep: (() => void) | undefined;
  private isClosed = false;
  private readonly slow: SlowConsumerCheck;
  /** WebSocket only: what the client has drained, by its pongs (see DrainCheck). */
  private readonly drain: DrainCheck | undefined;
  /** Set when what is queued for the next flush includes a resume's replay. */
  private replaying = false;

  constructor(
    /** Connection id, announced in `welcome`. */
    readonly cid: string,
    /** Peer address, for the per-IP limit. */
    readonly ip: string,
    /** What `authenticate` returned. */
    readonly principal: unknown,
    private readonly sink: ConnectionSink,
    private readonly settings: ConnectionSettings,
    private readonly onClosed: (connection: Connection) => void,
  ) {
    this.slow = new SlowConsumerCheck(settings, sink.transport !== 'longpoll');
    const now = Date.now();
    this.flushedAt = now;
    this.receivedAt = now;
    // Only a WebSocket client pings, so only there does silence mean the peer is gone.
    this.probePending = sink.transport === 'websocket';
    if (sink.transport === 'websocket') this.drain = new DrainCheck(settings);
    if (sink.pingsWhenIdle || this.drain) this.leaveSweep = joinSweep(settings.heartbeat, this);
  }

  /**
   * The heartbeat's deadlines, checked by the sweep a few times per heartbeat: a ping when
   * nothing went out for a heartbeat; on a WebSocket, a close when the client was silent for two,
   * a probe ping once it was silent for one, and a close when it stopped draining.
   */
  sweep(now: number): void {
    const { heartbeat } = this.settings;
    if (this.sink.pingsWhenIdle && now - this.flushedAt >= heartbeat) {
      // Counted from now until the ping's flush says when it went.
      this.flushedAt = now;
      this.send({ type: 'ping' });
    }
    if (!this.drain) return;
    if (now - this.receivedAt >= 2 * heartbeat) {
      this.close(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
      return;
    }
    // A client in a hidden tab runs its ping timer throttled (once a minute after five minutes),
    // and on a busy connection the server is never idle, so it would never ping either. Asking a
    // client that has been silent for an interval lets it answer from its message handler,
    // which browsers do not throttle.
    if (this.probePending && now - this.receivedAt >= heartbeat) {
      this.probePending = false;
      this.send({ type: 'ping' });
    }
    if (this.drain.stalled(now)) this.close(CloseCode.SLOW_CONSUMER, 'slow consumer: answers no ping while over maxSendBuffer behind');
  }

  /** The transport this connection runs on. */
  get transport(): ServerTransport {
    return this.sink.transport;
  }

  /** True once {@link close} has run. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Queues a frame; everything queued in this turn goes out together (in messages of at most maxBatchSize). */
  send(frame: ServerFrame): void {
    if (this.isClosed) return;
    this.queue.push(frame);
    this.flushHandle ??= setImmediate(() => this.flush());
  }

  /** Marks the next flush as carrying a resume's replay: a burst however much is unsent. */
  markReplay(): void {
    this.replaying = true;
  }

  /** Notes that the client sent something, which keeps a WebSocket alive. */
  received(): void {
    this.receivedAt = Date.now();
    this.probePending = this.drain !== undefined;
  }

  /** Notes a `pong` from a WebSocket client, as it arrives: proof of what it has read. */
  ponged(): void {
    this.drain?.answered();
  }

  /**
   * Ends the connection once; queued frames go out first unless the client is too slow to take
   * them. `spread` (ms), for a restart, is the window the client should spread its reconnect over.
   */
  close(code: number, reason: string, spread?: number): void {
    if (this.isClosed) return;
    if (code !== CloseCode.SLOW_CONSUMER) this.flush(true);
    // The last flush may itself have closed the connection (its buffer overflowed).
    if (this.isClosed) return;
    this.isClosed = true;
    clearImmediate(this.flushHandle);
    this.leaveSweep?.();
    this.queue = [];
    this.onClosed(this);
    this.sink.end(spread === undefined ? { type: 'bye', code, reason } : { type: 'bye', code, reason, spread });
  }

  /** Writes what is queued; `closing` when close() calls it (it then keeps its own code). */
  private flush(closing = false): void {
    // A flush called directly (by close) also cancels the one scheduled for this turn.
    clearImmediate(this.flushHandle);
    this.flushHandle = undefined;
    if (this.isClosed || this.queue.length === 0) return;
    const frames = this.queue;
    this.queue = [];
    let batches: [text: string, frames: ServerFrame[]][];
    let broken = false;
    const shared = frames.length === 1 ? sharedTexts.get(frames[0]!) : undefined;
    try {
      batches = shared ? [[shared.wire, frames]] : batchFrames(frames, this.settings.maxBatchSize);
    } catch {
      // Data a broker handed back that is not JSON (the publish paths check theirs): the other
      // frames still go out, then this connection ends (the process and the others go on).
      broken = true;
      batches = batchFrames(frames.filter(encodable), this.settings.maxBatchSize);
    }
    // Judged on what the client still holds from before: this flush goes out whole.
    const replay = this.replaying;
    this.replaying = false;
    const tooSlow = this.slow.tooSlow(this.sink.pendingBytes(), replay);
    let probe = false;
    for (const [text, batch] of batches) {
      this.sink.write(text, batch, replay);
      if (this.drain?.wrote(text.length, batch.some(isPing))) probe = true;
    }
    this.slow.flushed(this.sink.pendingBytes());
    this.flushedAt = Date.now();
    if (tooSlow) this.close(CloseCode.SLOW_CONSUMER, 'slow consumer: send buffer over maxSendBuffer');
    else if (broken && !closing) this.close(CloseCode.INTERNAL, 'internal error: a frame could not be encoded');
    else if (probe && !closing) this.send({ type: 'ping' });
  }
}
