import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloseCode, ErrorCode, type ByeFrame } from '../protocol/index.js';
import type { NodeBus } from './brokers/broker.js';
import { deliverSend } from './connect-endpoint.js';
import { fittingCount, type Connection, type ConnectionSink } from './connection.js';
import type { ServerContext } from './context.js';
import { httpPollReply, type LongPollEndpoint, type PollReply } from './long-polling-endpoint.js';
import { SlowConsumerCheck } from './slow-consumer.js';
import { sseSink, startEventStream, type SseEndpoint } from './sse-endpoint.js';

/**
 * How long (ms) a relay waits for the owner beyond what the request itself may take (a send
 * is handled at once, a poll is held, a stream pings when idle): longer means the owner is gone.
 */
const RELAY_MARGIN_MS = 5000;

/**
 * How often (ms) a node that relays for another asks the bus whether that node still listens.
 * Redis drops a dead process's subscription as soon as its socket closes, so a crashed owner
 * is known within two probes, long before the relay's timeouts (tens of seconds at the default
 * heartbeat) would find it; a second miss is awaited because one could be a reconnect.
 */
export const OWNER_PROBE_MS = 500;
const OWNER_MISSES = 2;

/** Messages between nodes; `rid` numbers a relayed request on the node that relays it (`from`). */
type BusMessage =
  | { t: 'send'; from: string; rid: number; cid: string; key: string | undefined; body: string }
  | { t: 'poll'; from: string; rid: number; cid: string; key: string | undefined; ack: string | null }
  | { t: 'sse'; from: string; rid: number; cid: string }
  /** The relaying node's stream went away. */
  | { t: 'close'; from: string; rid: number }
  /** The HTTP answer to a relayed request (an empty body with 204). */
  | { t: 'res'; rid: number; status: number; body: string }
  /**
   * Wire messages of a relayed stream, from its owner node: one flush, in parts of at most
   * about maxBatchSize (Redis cuts a subscriber off past its output buffer limit, 32 MB by
   * default); `first` marks the first part of a flush.
   */
  | { t: 'data'; from: string; rid: number; texts: string[]; first: boolean; replay: boolean }
  /** A relayed stream ends with a `bye`. */
  | { t: 'end'; rid: number; bye: ByeFrame }
  /** Only asks the bus whether the node listens; the node ignores it. */
  | { t: 'probe' };

type Answer = Extract<BusMessage, { t: 'res' }>;

const gone = (res: ServerResponse) =>
  httpPollReply(res).answer(
    404,
    JSON.stringify({ error: { code: ErrorCode.UNKNOWN_CONNECTION, message: 'The node that held this connection is gone' } }),
  );

/** Writes a relayed answer as the owner would have. */
function writeAnswer(res: ServerResponse, answer: Answer | undefined): void {
  if (!answer) return gone(res);
  if (answer.status !== 204) return httpPollReply(res).answer(answer.status, answer.body);
  if (!res.headersSent && !res.destroyed) res.writeHead(204).end();
}

/**
 * Serves SSE and long-poll connections held by other nodes, so no sticky sessions are needed.
 * A cid is `<node>.<random>`; a request for another node's cid is relayed to that node over
 * the broker's {@link NodeBus}, and the connection's state (subscriptions, queue, long-poll
 * frame numbers) never leaves its node. A `send` is answered once the owner has queued the
 * frames, a `poll` with the owner's answer, and an SSE stream carries the wire messages the
 * owner writes. A relay whose owner is gone (no longer listening on the bus, probed every
 * {@link OWNER_PROBE_MS}, or silent for too long) answers 404 UNKNOWN_CONNECTION or ends the
 * stream: the client then reconnects and resumes elsewhere.
 */
export class Cluster {
  private nextRid = 0;
  /** Relayed requests waiting for the owner, by rid. */
  private readonly waiting = new Map<number, { deliver(message: BusMessage): void; cancel(): void }>();
  /** Streams this node owns that another node relays, by `from/rid`. */
  private readonly streams = new Map<string, Connection>();
  private readonly listening: Promise<(() => void) | undefined>;
  private listened = false;
  /** Relays waiting on each owner node, with what to do when it is found gone. */
  private readonly relaysTo = new Map<string, { relays: Map<number, () => void>; misses: number; timer: NodeJS.Timeout }>();

  constructor(
    private readonly context: ServerContext,
    private readonly bus: NodeBus,
    private readonly node: string,
    private readonly sse: SseEndpoint,
    private readonly longPoll: LongPollEndpoint,
  ) {
    this.listening = bus
      .listen(node, (text) => this.receive(text))
      .then(
        (stop) => {
          this.listened = true;
          return stop;
        },
        () => undefined,
      );
  }

  /**
   * Resolves once other nodes can reach this one (bounded: with Redis down nothing would
   * reach it anyway), so that no cid is handed out before its relays can arrive.
   */
  async ready(): Promise<void> {
    if (this.listened) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.listening, new Promise((resolve) => (timer = setTimeout(resolve, RELAY_MARGIN_MS)))]);
    clearTimeout(timer);
  }

  /** The node that holds `cid` when that is another node; undefined means "handle it here". */
  ownerOf(cid: string): string | undefined {
    const dot = cid.indexOf('.');
    const owner = dot > 0 ? cid.slice(0, dot) : undefined;
    return owner === this.node ? undefined : owner;
  }

  /** Relays the body of `POST send` and answers as the owner did. */
  async relaySend(res: ServerResponse, owner: string, cid: string, key: string | undefined, body: string): Promise<void> {
    writeAnswer(res, await this.ask(owner, { t: 'send', cid, key, body }, RELAY_MARGIN_MS));
  }

  /** Relays `GET poll` and answers as the owner did. */
  async relayPoll(res: ServerResponse, owner: string, cid: string, key: string | undefined, ack: string | null): Promise<void> {
    const { longPollHold, heartbeat } = this.context.options;
    writeAnswer(res, await this.ask(owner, { t: 'poll', cid, key, ack }, Math.min(longPollHold, heartbeat) + RELAY_MARGIN_MS));
  }

  /** Relays `GET sse`: this node holds the stream and writes what the owner sends. */
  relaySse(req: IncomingMessage, res: ServerResponse, owner: string, cid: string): void {
    const rid = ++this.nextRid;
    const sink = sseSink(res);
    const { heartbeat } = this.context.options;
    const slow = new SlowConsumerCheck(this.context.options);
    let open = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      this.waiting.delete(rid);
      this.unwatchOwner(owner, rid);
      this.context.stopHooks.delete(stop);
    };
    const abandon = () => {
      if (!this.waiting.has(rid)) return;
      finish();
      void this.bus.send(owner, JSON.stringify({ t: 'close', from: this.node, rid } satisfies BusMessage));
    };
    // Until the first message the owner is answering the open; then it pings an idle stream
    // every heartbeat. Silence for longer means it is gone: the client reconnects elsewhere.
    const ownerGone = () => {
      abandon();
      if (open) res.destroy();
      else gone(res);
    };
    const watch = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(ownerGone, ms);
    };
    const stop = () => {
      abandon();
      if (open) sink.end(this.context.restartBye());
      else gone(res);
    };
    this.context.stopHooks.add(stop);
    watch(RELAY_MARGIN_MS);
    this.watchOwner(owner, rid, ownerGone);
    this.waiting.set(rid, {
      deliver: (message) => {
        if (message.t === 'res') {
          finish();
          writeAnswer(res, message);
        } else if (message.t === 'end') {
          finish();
          sink.end(message.bye);
        } else if (message.t === 'data') {
          if (!open) {
            open = true;
            startEventStream(req, res);
            this.context.track(new Promise((resolve) => res.once('close', resolve)));
          }
          // Judged as on the owner's own streams, on what the client holds from before this flush.
          let tooSlow = false;
          if (message.first) tooSlow = slow.tooSlow(res.writableLength, message.replay);
          else slow.note(res.writableLength);
          for (const text of message.texts) sink.write(text, [], message.replay);
          slow.flushed(res.writableLength);
          if (tooSlow) {
            abandon();
            sink.end({ type: 'bye', code: CloseCode.SLOW_CONSUMER, reason: 'slow consumer: send buffer over maxSendBuffer' });
          } else {
            watch(2 * heartbeat + RELAY_MARGIN_MS);
          }
        }
      },
      cancel: stop,
    });
    res.once('close', abandon);
    void this.bus.send(owner, JSON.stringify({ t: 'sse', from: this.node, rid, cid } satisfies BusMessage)).then((sent) => {
      if (sent || !this.waiting.has(rid)) return;
      finish();
      gone(res);
    });
  }

  /** Stops relaying: waiting relays end (404, or `bye` on a stream), and other nodes can no longer reach this one. */
  close(): void {
    for (const waiter of [...this.waiting.values()]) waiter.cancel();
    for (const watched of this.relaysTo.values()) clearInterval(watched.timer);
    this.relaysTo.clear();
    // Not awaited: with Redis down the subscription may still be waiting to be made.
    void this.listening.then((stop) => stop?.());
  }

  /**
   * Probes `owner` while relay `rid` waits on it; `gone` ends the relay when the owner no longer
   * listens, so its client reconnects and resumes within about a second of a crash.
   */
  private watchOwner(owner: string, rid: number, gone: () => void): void {
    let watched = this.relaysTo.get(owner);
    if (!watched) {
      const probe = JSON.stringify({ t: 'probe' } satisfies BusMessage);
      const created = {
        relays: new Map<number, () => void>(),
        misses: 0,
        timer: setInterval(() => {
          void this.bus.send(owner, probe).then((listening) => {
            if (this.relaysTo.get(owner) !== created) return;
            created.misses = listening ? 0 : created.misses + 1;
            if (created.misses < OWNER_MISSES) return;
            for (const end of [...created.relays.values()]) end();
          });
        }, OWNER_PROBE_MS),
      };
      created.timer.unref();
      this.relaysTo.set(owner, created);
      watched = created;
    }
    watched.relays.set(rid, gone);
  }

  private unwatchOwner(owner: string, rid: number): void {
    const watched = this.relaysTo.get(owner);
    if (!watched?.relays.delete(rid) || watched.relays.size > 0) return;
    clearInterval(watched.timer);
    this.relaysTo.delete(owner);
  }

  /** Sends a request to its owner; resolves with the answer, or undefined when the owner is gone. */
  private ask(
    owner: string,
    request:
      | { t: 'send'; cid: string; key: string | undefined; body: string }
      | { t: 'poll'; cid: string; key: string | undefined; ack: string | null },
    timeout: number,
  ) {
    const rid = ++this.nextRid;
    return new Promise<Answer | undefined>((resolve) => {
      const finish = (answer: Answer | undefined) => {
        clearTimeout(timer);
        this.waiting.delete(rid);
        this.unwatchOwner(owner, rid);
        resolve(answer);
      };
      const timer = setTimeout(() => finish(undefined), timeout);
      this.watchOwner(owner, rid, () => finish(undefined));
      this.waiting.set(rid, {
        deliver: (message) => {
          if (message.t === 'res') finish(message);
        },
        cancel: () => finish(undefined),
      });
      void this.bus.send(owner, JSON.stringify({ ...request, from: this.node, rid } satisfies BusMessage)).then((sent) => {
        if (!sent) finish(undefined);
      });
    });
  }

  private receive(text: string): void {
    let message: BusMessage;
    try {
      message = JSON.parse(text) as BusMessage;
    } catch {
      return;
    }
    switch (message.t) {
      case 'data':
        // A stream this node no longer holds (its `close` to the owner may have been lost in a
        // Redis blip): tell the owner again, or it would keep the connection open for nobody.
        if (!this.waiting.has(message.rid)) {
          this.reply(message.from, { t: 'close', from: this.node, rid: message.rid });
          return;
        }
        this.waiting.get(message.rid)!.deliver(message);
        return;
      case 'res':
      case 'end':
        this.waiting.get(message.rid)?.deliver(message);
        return;
      case 'send':
      case 'poll':
        // The owner checks the key: it is the node that handed it out.
        if (!this.context.keyMatches(message.cid, message.key)) {
          const body = JSON.stringify({ error: { code: ErrorCode.UNKNOWN_CONNECTION, message: 'Unknown cid, or wrong connection key' } });
          this.reply(message.from, { t: 'res', rid: message.rid, status: 404, body });
        } else if (message.t === 'poll') {
          this.longPoll.poll(this.remoteReply(message.from, message.rid), message.cid, message.ack);
        } else {
          const outcome = deliverSend(this.context, message.cid, message.body);
          const body = outcome.status === 204 ? '' : JSON.stringify({ error: { code: outcome.code, message: outcome.message } });
          this.reply(message.from, { t: 'res', rid: message.rid, status: outcome.status, body });
        }
        return;
      case 'sse': {
        const { from, rid, cid } = message;
        const key = `${from}/${rid}`;
        const connection = this.sse.openOn(cid, this.remoteSink(from, rid, key));
        if (connection) this.streams.set(key, connection);
        else {
          const body = JSON.stringify({ error: { code: ErrorCode.UNKNOWN_CONNECTION, message: 'Unknown, expired or already used cid' } });
          this.reply(from, { t: 'res', rid, status: 404, body });
        }
        return;
      }
      case 'close':
        this.streams.get(`${message.from}/${message.rid}`)?.close(1006, 'stream closed');
        return;
      case 'probe':
        return;
    }
  }

  private reply(node: string, message: BusMessage): void {
    void this.bus.send(node, JSON.stringify(message));
  }

  /** Answers a poll that another node received. */
  private remoteReply(from: string, rid: number): PollReply {
    let answered = false;
    return {
      answer: (status, body) => {
        if (answered) return;
        answered = true;
        this.reply(from, { t: 'res', rid, status, body });
      },
      onClose: () => undefined,
    };
  }

  /** The owner's end of a stream that node `from` holds. */
  private remoteSink(from: string, rid: number, key: string): ConnectionSink {
    // A flush writes all its wire messages in one turn: they are sent together, in parts, the
    // first marked, so the relaying node knows where a flush starts (and judges it there).
    let texts: string[] = [];
    let replay = false;
    const { maxBatchSize } = this.context.options;
    const relay = () => {
      let first = true;
      while (texts.length > 0) {
        // At least one wire message per part; each is at most about maxBatchSize.
        const count = fittingCount(texts, maxBatchSize);
        const message = JSON.stringify({
          t: 'data',
          from: this.node,
          rid,
          texts: texts.slice(0, count),
          first,
          replay,
        } satisfies BusMessage);
        texts = texts.slice(count);
        first = false;
        void this.bus.send(from, message).then((sent) => {
          if (!sent) this.streams.get(key)?.close(1006, 'relaying node gone');
        });
      }
      replay = false;
    };
    return {
      transport: 'sse',
      pingsWhenIdle: true,
      write: (text, _frames, replaying) => {
        replay ||= replaying;
        if (texts.push(text) === 1) queueMicrotask(relay);
      },
      // The relaying node watches its own buffer and drops a slow consumer itself.
      pendingBytes: () => 0,
      end: (bye) => {
        // What the last flush wrote goes before the end.
        relay();
        this.streams.delete(key);
        this.reply(from, { t: 'end', rid, bye });
      },
    };
  }
}
