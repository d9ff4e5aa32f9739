import {
  CloseCode,
  ErrorCode,
  decodeWire,
  isProblem,
  validateClientFrame,
  type ClientFrame,
  type ErrorFrame,
  type PubFrame,
  type WireProblem,
} from '../protocol/index.js';
import type { Connection } from './connection.js';
import { brokerRetryDelay, errorMessage } from './broker-failure.js';
import type { Hub } from './hub.js';
import { withinDepth } from './json-depth.js';
import type { ResolvedServerOptions } from './options.js';
import { TokenBucket, type SpentBuckets } from './token-bucket.js';

/** What handling a client frame needs from the server. */
export interface InboundContext {
  hub: Hub;
  options: ResolvedServerOptions;
  /** Publish buckets that outlive the connections cut for going over them. */
  spentPublishes: SpentBuckets;
}

/** Waits without keeping the process alive (a closing server doesn't wait for retries). */
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

const validName = (value: unknown, max: number): value is string => typeof value === 'string' && value.length > 0 && value.length <= max;

/** An error frame for a refused frame, pointing at its publish id or channel when those are well formed. */
function refusal(code: ErrorCode, message: string, raw?: unknown): ErrorFrame {
  const frame: ErrorFrame = { type: 'error', code, message };
  if (typeof raw === 'object' && raw !== null) {
    const { id, channel, rid } = raw as { id?: unknown; channel?: unknown; rid?: unknown };
    if (validName(id, 64)) frame.id = id;
    if (validName(channel, 256)) frame.channel = channel;
    if (validName(rid, 64)) frame.rid = rid;
  }
  return frame;
}

/**
 * Splits a client wire message into frames. Returns the raw frames that can be handled
 * (see {@link screenFrames}), or sends the error that refuses the whole message (bad JSON, not an
 * array, too many frames) and returns undefined.
 */
export function splitWire(connection: Connection, text: string, options: ResolvedServerOptions): unknown[] | undefined {
  const decoded = decodeWire(text);
  if (isProblem(decoded)) {
    connection.send(refusal(decoded.problem, decoded.message));
    return undefined;
  }
  return acceptFrames(connection, decoded, options) ? screenFrames(connection, decoded, text, options) : undefined;
}

/**
 * The frames of `text` (a wire message that parsed to `frames`) that nest at most
 * `maxJsonDepth` levels and fit `maxMessageSize`. A message may be a batch of fine frames (a
 * client resending its outbox after a reconnect): only the frames that break a limit are
 * refused, each by its id or channel, so the client can settle them instead of resending them
 * forever. Every frame a client sends passes here, so what the server stores can always be
 * encoded again.
 */
export function screenFrames(connection: Connection, frames: unknown[], text: string, options: ResolvedServerOptions): unknown[] {
  const { maxJsonDepth, maxMessageSize } = options;
  const small = Buffer.byteLength(text) <= maxMessageSize;
  return frames.filter((raw) => {
    if (!withinDepth(raw, maxJsonDepth)) {
      connection.send(refusal(ErrorCode.BAD_JSON, `Frame nests deeper than maxJsonDepth (${maxJsonDepth} levels)`, raw));
      return false;
    }
    if (small) return true;
    const size = Buffer.byteLength(JSON.stringify(raw) ?? '');
    if (size <= maxMessageSize) return true;
    connection.send(refusal(ErrorCode.FRAME_TOO_LARGE, `Frame of ${size} bytes exceeds maxMessageSize (${maxMessageSize})`, raw));
    return false;
  });
}

/** Largest wire message (bytes) a client may send: maxFramesPerMessage frames of maxMessageSize. */
export const maxWireSize = (options: ResolvedServerOptions): number => options.maxMessageSize * options.maxFramesPerMessage;

/** False (after sending `TOO_MANY_FRAMES`) when a wire message holds more frames than allowed. */
export function acceptFrames(connection: Connection, frames: readonly unknown[], options: ResolvedServerOptions): boolean {
  if (frames.length <= options.maxFramesPerMessage) return true;
  connection.send(
    refusal(ErrorCode.TOO_MANY_FRAMES, `Message holds ${frames.length} frames; at most ${options.maxFramesPerMessage} are accepted`),
  );
  return false;
}

/** What a connection has sent that the server has not finished with, and its publish budget. */
interface Inflow {
  /** Bytes of wire messages not yet handled in full (frames waiting, publishes being retried). */
  bytes: number;
  publishes: TokenBucket;
}

// Kept here, not on the connection: only this module reads or writes it.
const inflows = new WeakMap<Connection, Inflow>();

function inflowOf(connection: Connection, context: InboundContext): Inflow {
  let inflow = inflows.get(connection);
  if (!inflow) {
    const { publishRate, publishBurst } = context.options;
    const publishes = context.spentPublishes.of(connection.ip) ?? new TokenBucket(publishRate, publishBurst);
    inflow = { bytes: 0, publishes };
    inflows.set(connection, inflow);
  }
  return inflow;
}

const isPub = (raw: unknown): boolean => (raw as { type?: unknown } | null)?.type === 'pub';

/**
 * Admits a wire message of `bytes` holding `frames`, or closes the connection with 1008 when it
 * breaks a budget: more publishes than `publishRate` / `publishBurst` allow (after an `error`
 * frame `RATE_LIMITED` without an id, so the client keeps them and resends after reconnecting;
 * its address's next connections start from that spent bucket until it has filled up again),
 * more than `maxInboundBytes` waiting (a message that finds nothing waiting is always taken, so
 * any message within the size limits gets through), or more than {@link maxWaitingFrames}.
 * Returns the function each frame calls when done with, or undefined when refused.
 */
function admit(connection: Connection, frames: readonly unknown[], bytes: number, context: InboundContext): (() => void) | undefined {
  const { options } = context;
  const inflow = inflowOf(connection, context);
  const publishes = frames.filter(isPub).length;
  if (publishes > 0 && !inflow.publishes.take(publishes)) {
    connection.send(
      refusal(ErrorCode.RATE_LIMITED, `More than ${options.publishRate} publishes per second (bursts of ${options.publishBurst})`),
    );
    context.spentPublishes.keep(connection.ip, inflow.publishes);
    connection.close(CloseCode.POLICY_VIOLATION, 'publish rate over publishRate');
    return undefined;
  }
  if (inflow.bytes > 0 && inflow.bytes + bytes > options.maxInboundBytes) {
    connection.close(CloseCode.POLICY_VIOLATION, 'more than maxInboundBytes waiting to be handled');
    return undefined;
  }
  // A slow authorize hook or broker must not let one client queue unbounded work and memory.
  connection.waitingFrames += frames.length;
  if (connection.waitingFrames > maxWaitingFrames(options)) {
    connection.close(CloseCode.POLICY_VIOLATION, 'too many frames waiting to be handled');
    return undefined;
  }
  inflow.bytes += bytes;
  let left = frames.length;
  return () => {
    if (--left === 0) inflow.bytes -= bytes;
  };
}

/**
 * Handles raw client frames (from a wire message of `bytes` bytes) in order, after any earlier
 * message of the same connection (publishes are handed to their own chain, see handleFrame).
 * A frame that throws unexpectedly ends the connection with 1011, never the process.
 */
export function receiveFrames(connection: Connection, frames: readonly unknown[], bytes: number, context: InboundContext): void {
  if (frames.length === 0) return;
  const done = admit(connection, frames, bytes, context);
  if (!done) return;
  connection.inbox = connection.inbox
    .then(async () => {
      for (const raw of frames) {
        connection.waitingFrames--;
        if (connection.closed) return;
        await handleFrame(connection, raw, context, done);
      }
    })
    .catch(() => connection.close(CloseCode.INTERNAL, 'internal error'));
}

/** Most frames a connection may have waiting to be handled: sixteen full wire messages. */
export const maxWaitingFrames = (options: ResolvedServerOptions): number => 16 * options.maxFramesPerMessage;

async function allowed(
  connection: Connection,
  channel: string,
  action: 'subscribe' | 'publish',
  context: InboundContext,
): Promise<boolean> {
  const { authorize } = context.options;
  if (!authorize) return true;
  try {
    return (await authorize(connection.principal, channel, action)) === true;
  } catch {
    return false;
  }
}

/** Handles one frame; `done` is called once the server is finished with it. */
async function handleFrame(connection: Connection, raw: unknown, context: InboundContext, done: () => void): Promise<void> {
  const frame: ClientFrame | WireProblem = validateClientFrame(raw);
  if (!isProblem(frame) && frame.type === 'pub') {
    // Publishes keep their order on a chain of their own, so that one the broker keeps failing
    // is retried there while the connection's other frames (ping, sub, unsub) go on. Until it
    // is done it still counts as waiting, which bounds what a client can queue meanwhile.
    connection.waitingFrames++;
    connection.publishing = connection.publishing
      .then(() => publish(connection, frame, context))
      .catch(() => connection.close(CloseCode.INTERNAL, 'internal error'))
      .finally(() => {
        connection.waitingFrames--;
        done();
      });
    return;
  }
  try {
    await handleOther(connection, frame, raw, context);
  } finally {
    done();
  }
}

async function handleOther(connection: Connection, frame: ClientFrame | WireProblem, raw: unknown, context: InboundContext): Promise<void> {
  if (isProblem(frame)) {
    connection.send(refusal(frame.problem, frame.message, raw));
    return;
  }
  switch (frame.type) {
    case 'hello':
      connection.send(refusal(ErrorCode.BAD_FRAME, '"hello" is accepted only as the first frame of a WebSocket'));
      return;
    case 'ping':
      connection.send({ type: 'pong' });
      return;
    case 'pong':
      return;
    case 'bye':
      connection.close(CloseCode.NORMAL, 'client closed');
      return;
    case 'unsub':
      context.hub.unsubscribe(connection, frame.channel);
      return;
    case 'sub': {
      const { channel } = frame;
      const { maxSubscriptions } = context.options;
      const others = context.hub.subscriptionCount(connection) - (context.hub.isSubscribed(connection, channel) ? 1 : 0);
      if (others >= maxSubscriptions) {
        connection.send(refusal(ErrorCode.TOO_MANY_SUBSCRIPTIONS, `At most ${maxSubscriptions} subscriptions per connection`, frame));
      } else if (!(await allowed(connection, channel, 'subscribe', context))) {
        connection.send(refusal(ErrorCode.FORBIDDEN, `Not allowed to subscribe to "${channel}"`, frame));
      } else if (!connection.closed) {
        await context.hub.subscribe(connection, channel, frame.since, frame.rid);
      }
      return;
    }
    case 'pub':
      // Handed to the publishing chain by handleFrame.
      return;
  }
}

/** Publishes one client frame and acks it, retrying (same id) for as long as the broker fails. */
async function publish(connection: Connection, { id, channel, data }: PubFrame, context: InboundContext): Promise<void> {
  if (connection.closed) return;
  if (!(await allowed(connection, channel, 'publish', context))) {
    connection.send(refusal(ErrorCode.FORBIDDEN, `Not allowed to publish to "${channel}"`, { id, channel }));
    return;
  }
  // A failed publish may still have landed (a reply lost to a Redis timeout), so it is never
  // refused: the server retries it with the same id, which the broker's dedup makes safe,
  // and acks once it is in the log. The error frame carries no id: it informs, it doesn't settle.
  for (let attempt = 0; !connection.closed; attempt++) {
    try {
      const result = await context.options.broker.publish(channel, data, id);
      connection.send({ type: 'ack', id, channel, epoch: result.epoch, seq: result.seq });
      return;
    } catch (error) {
      if (attempt === 0)
        connection.send(refusal(ErrorCode.BROKER_UNAVAILABLE, `Publish to "${channel}" failed, retrying: ${errorMessage(error)}`));
      await pause(brokerRetryDelay(attempt));
    }
  }
}
