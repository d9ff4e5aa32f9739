import { decodeWire, isProblem, PROTOCOL_VERSION, validateServerFrame, type ServerFrame, type WireProblem } from '../protocol/index.js';
import type { TransportClose, TransportContext, TransportFactory, TransportName } from '../transports/transport.js';
import { LifelineError, type LifelineErrorCode, problem } from './errors.js';
import type { ResolvedOptions } from './options.js';

/**
 * Reports a link's valid frames, then its end (no frame; an error when bad input ended it).
 * The first frame a link reports is always a `welcome` of our protocol version.
 */
export type LinkHandler = (link: Link, frame?: ServerFrame, error?: LifelineError) => void;

/** One transport connection, with the decoding and the timestamps the session needs. */
export interface Link {
  readonly name: TransportName;
  /** Once the transport ended by itself: how, e.g. `/connect: HTTP 404` or `closed 1006`. */
  endReason?: string;
  /** When the last wire message arrived / was sent (ms timestamps). */
  receivedAt: number;
  sentAt: number;
  /** Starts the transport with this attempt's token. */
  open(token: string | undefined): void;
  /** Sends one wire message. */
  send(text: string): void;
  /** Ends the link; no callback comes after it, even a late one from the transport. */
  close(): void;
}

const problemError = (p: WireProblem) => problem(p.problem, p.message);

/**
 * Wraps a transport factory; `handle` hears about its frames and its end, and nothing once it is closed.
 * @param options the client's options: the transport reads the URL and the injectables from them
 */
export function createLink(factory: TransportFactory, options: ResolvedOptions, handle: LinkHandler): Link {
  let transport: { send(text: string): void; close(): void } | undefined;
  let dead = false;
  /** Set when the welcome arrived: the transport is proven to work. */
  let welcomed = false;
  const end = (error?: LifelineError, info?: TransportClose) => {
    if (dead) return;
    // A refusal in the transport's words is kept as is (it already names the code).
    link.endReason = info?.reason || (error ? `${error.code}: ${error.message}` : `closed ${info?.code ?? 1006}`);
    link.close();
    handle(link, undefined, error);
  };
  const onMessage = (text: string) => {
    if (dead) return;
    link.receivedAt = Date.now();
    const frames = decodeWire(text, options.maxMessageSize);
    if (isProblem(frames)) return end(problemError(frames));
    for (const raw of frames) {
      // A handler may have closed this link (or switched links) while frames remain.
      if (dead) return;
      const frame = validateServerFrame(raw);
      // Unknown frame types are skipped so that servers can add frames without breaking us.
      if (isProblem(frame)) {
        if (frame.problem !== 'UNKNOWN_TYPE') end(problemError(frame));
        continue;
      }
      if (!welcomed) {
        // Before its welcome a connection is unproven: anything else ends it.
        if (frame.type === 'error') return end(new LifelineError(frame.code, frame.message));
        if (frame.type !== 'welcome') return end(problem('BAD_FRAME', __DEV__ && `${frame.type} before the welcome`));
        if (frame.v !== PROTOCOL_VERSION)
          return end(problem('UNSUPPORTED_VERSION', __DEV__ && `the server speaks v${frame.v}, this client v${PROTOCOL_VERSION}`));
        welcomed = true;
      }
      handle(link, frame);
    }
  };
  const link: Link = {
    name: factory.transportName,
    receivedAt: Date.now(),
    sentAt: Date.now(),
    open(token) {
      try {
        transport = factory({
          ...options,
          token,
          onMessage,
          // A refusal in the server's words (an HTTP transport read its error code) is an error of
          // that code. A welcomed WebSocket that the server closed with a code of its own (1009,
          // a protocol violation; a `bye` would have come first otherwise) is an error as a bye
          // is: not a normal close (1000, 1001), a missing code (1005) or a drop (1006).
          onClose: (info) =>
            end(
              info.error
                ? new LifelineError(info.error as LifelineErrorCode, info.reason)
                : welcomed && info.code > 1001 && info.code !== 1005 && info.code !== 1006
                  ? new LifelineError('SERVER_CLOSED', `${info.code} ${info.reason}`)
                  : undefined,
              info,
            ),
        } as TransportContext);
      } catch (error) {
        // A transport should report failures through onClose; a throwing one is treated alike.
        end(undefined, { code: 1006, reason: String(error) });
      }
      if (dead) transport?.close();
    },
    send(text) {
      link.sentAt = Date.now();
      transport?.send(text);
    },
    close() {
      dead = true;
      transport?.close();
    },
  };
  return link;
}
