import { createNegotiation } from '../client/negotiation.js';
import { PROTOCOL_VERSION } from '../protocol/frames.js';
import type { Transport, TransportContext, TransportFactory, TransportName } from './transport.js';

/** fetch on `{url}/{path}`, aborted when the transport ends. */
export type HttpRequest = (path: string, init?: RequestInit) => Promise<Response>;

/** Ends a transport: reports `onClose` once (with the server's error code, if it gave one), and nothing at all after `close()`. */
export type HttpEnd = (code: number, reason: string, error?: string) => void;

/** The `Authorization` header for a token or a connection key, if there is one. */
const bearer = (secret?: string): Record<string, string> => (secret ? { Authorization: `Bearer ${secret}` } : {});

/** Most frames in one `/send`: the server's `maxFramesPerMessage` is never below 100. */
export const MAX_FRAMES_PER_SEND = 100;

/**
 * Takes the oldest queued wire messages that fit one of at most {@link MAX_FRAMES_PER_SEND}
 * frames and `maxChars` characters, and returns them joined into one, in order. Each queued
 * message holds one frame: the session sends one frame per wire message. A message over the
 * size limit on its own still goes, alone: the server refuses a frame over its limit by its
 * id, and no publish is over its limit for a whole message (the client refuses one over its
 * `maxMessageSize` before sending it). Batches within the client's `maxMessageSize` stay
 * within the server's limit for a whole message, as that option's documentation asks.
 */
export function takeBatch(queue: string[], maxChars: number): string {
  let count = 0;
  let chars = 0;
  for (const text of queue) {
    chars += text.length;
    if (count && (count === MAX_FRAMES_PER_SEND || chars > maxChars)) break;
    count++;
  }
  return `[${queue
    .splice(0, count)
    .map((text) => text.slice(1, -1))
    .join()}]`;
}

/**
 * Makes the factory of an HTTP-based transport. What SSE and long polling share:
 * `POST {url}/connect` (the token in the `Authorization` header, never in a URL), then `run`
 * with the cid; client frames go as `POST {url}/send?cid=`, one request at a time so the
 * server sees them in order: what is sent while a request is in flight waits, and the next
 * request carries all of it as one wire message (see {@link takeBatch}), so a page publishes
 * at the speed of the link rather than one message per round trip. Every request after
 * `/connect` carries the connection key that `/connect` answered, in `Authorization`: the cid
 * in a URL may end up in a log, the key never does. Any failure ends the transport with 1006
 * and a reason naming the request and what came back, and so does a `/send` unanswered for
 * twice the server's heartbeat interval (a network that holds a request holds every send
 * behind it); the session resends what matters after it reconnects, and dedup keeps each
 * publish single. `close()` posts a `bye` frame so the server frees the connection at once.
 * Throws when there is no fetch at all (the session counts that as a failed transport).
 *
 * @param run starts the downstream half, passing wire messages to `receive` (which drops them
 *   once the transport is closed); returns what to tear down on close.
 */
export const httpTransport = (
  transport: Exclude<TransportName, 'websocket'>,
  run: (ctx: TransportContext, cid: string, request: HttpRequest, end: HttpEnd, receive: (text: string) => void) => (() => void) | void,
): TransportFactory =>
  Object.assign(
    (ctx: TransportContext): Transport => {
      const abort = new AbortController();
      let live = true;
      let cid: string;
      /** The header with the connection key from `/connect`, which `/send` and `/poll` need. */
      let key: Record<string, string>;
      let stop: (() => void) | void;
      /** Messages waiting for the request in flight (the connect, or a send). */
      const queue: string[] = [];
      let busy = true;
      /** The server's heartbeat interval (ms), read from its welcome: it bounds a `/send`. */
      let heartbeat: string | undefined;
      const close = () => {
        live = false;
        abort.abort();
        stop?.();
      };
      const end: HttpEnd = (code, reason, error) => {
        if (live) {
          close();
          ctx.onClose(error ? { code, reason, error } : { code, reason });
        }
      };
      // Called unbound: a browser's fetch throws "Illegal invocation" when called as ctx.fetch().
      const request: HttpRequest = (path, init) =>
        (ctx.fetch || fetch)(`${ctx.url}/${path}`, { headers: key, signal: abort.signal, ...init });
      /**
       * Passes a 2xx answer on; anything else ends the transport, with the server's error code
       * when its body has one (`{ error: { code } }`; a proxy's HTML page has none).
       */
      const checked = (path: string) => async (res: Response) => {
        // Once closed there is no answer to check.
        if (!live || res.ok) return res;
        const code = await res.json().then(
          (body) => body?.error?.code,
          () => undefined,
        );
        if (typeof code === 'string') end(1006, `/${path}: HTTP ${res.status} ${code}`, code);
        else end(1006, `/${path}: HTTP ${res.status}`);
      };
      const failed = (path: string) => (error: unknown) => end(1006, `/${path}: ${error}`);
      /** Starts the next `/send` with everything queued, unless one is in flight. */
      const flush = () => {
        if (busy || !live || !queue.length) return;
        busy = true;
        let deadline: ReturnType<typeof setTimeout>;
        // A turn later, so that what the session sends in one go travels together.
        Promise.resolve()
          .then(() => {
            // 25 s is the server's default, for a welcome that did not say.
            const bound = 2 * (Number(heartbeat) || 25_000);
            deadline = setTimeout(() => end(1006, `/send: no answer within ${bound} ms`), bound);
            // A string body goes as text/plain, fetch's default. Inside `then`, so that a fetch
            // that throws at once fails the send too.
            return request(`send?cid=${cid}`, { method: 'POST', body: takeBatch(queue, ctx.maxMessageSize) });
          })
          .then(checked('send'), failed('send'))
          .then(() => {
            clearTimeout(deadline);
            busy = false;
            flush();
          });
      };
      request('connect', {
        method: 'POST',
        headers: bearer(ctx.token),
        body: JSON.stringify({ v: PROTOCOL_VERSION, transport }),
      })
        .then(checked('connect'))
        .then(async (res) => {
          if (res) {
            // An answer without a cid fails one request later: the server refuses cid=undefined.
            const answer = await res.json();
            cid = encodeURIComponent(answer.cid);
            key = bearer(answer.key);
            // A missing or refusing EventSource throws here and ends the transport like a failed connect.
            if (live)
              stop = run(ctx, cid, request, end, (text) => {
                // The welcome comes first; until then this looks at each message.
                heartbeat ??= /"heartbeat":(\d+)/.exec(text)?.[1];
                if (live) ctx.onMessage(text);
              });
            busy = false;
            flush();
          }
        })
        .catch(failed('connect'));
      return {
        send(text) {
          if (live) {
            queue.push(text);
            flush();
          }
        },
        close() {
          // Tells the server, which otherwise frees a long-poll connection only once its polls
          // stop for heartbeat + longPollHold. Not aborted with the rest, and `keepalive` lets it
          // outlive the page; its answer does not matter.
          if (live && cid)
            request(`send?cid=${cid}`, { method: 'POST', body: '[{"type":"bye"}]', keepalive: true, signal: null }).catch(() => {});
          close();
        },
      };
    },
    // A fallback transport brings the policy that chooses between transports.
    { transportName: transport, negotiation: createNegotiation },
  );
