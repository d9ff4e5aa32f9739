import { createNegotiation } from '../client/negotiation.js';
import { PROTOCOL_VERSION } from '../protocol/frames.js';
import type { Transport, TransportContext, TransportFactory, TransportName } from './transport.js';

/** fetch on `{url}/{path}`, aborted when the transport ends. */
export type HttpRequest = (path: string, init?: RequestInit) => Promise<Response>;

/** Ends a transport: reports `onClose` once (with the server's error code, if it gave one), and nothing at all after `close()`. */
export type HttpEnd = (code: number, reason: string, error?: string) => void;

/** The `Authorization` header for a token or a connection key, if there is one. */
const bearer = (secret?: string): Record<string, string> => (secret ? { Authorization: `Bearer ${secret}` } : {});

/**
 * Makes the factory of an HTTP-based transport. What SSE and long polling share:
 * `POST {url}/connect` (the token in the `Authorization` header, never in a URL), then `run`
 * with the cid; client frames go as `POST {url}/send?cid=`, one at a time so the server sees
 * them in order. Every request after `/connect` carries the connection key that `/connect`
 * answered, in `Authorization`: the cid in a URL may end up in a log, the key never does.
 * Any failure ends the transport with 1006 and a reason naming the request and what came
 * back; the session resends what matters after it reconnects. Throws when there is no fetch
 * at all (the session counts that as a failed transport).
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
        (ctx.fetch || fetch)(`${ctx.url}/${path}`, { headers: key, ...init, signal: abort.signal });
      /**
       * Passes a 2xx answer on; anything else ends the transport, with the server's error code
       * when its body has one (`{ error: { code } }`; a proxy's HTML page has none).
       */
      const checked = (path: string) => async (res: Response) => {
        // Once closed there is no answer to check (a send skipped after close() passes `false`).
        if (!live || res.ok) return res;
        const code = await res.json().then(
          (body) => body?.error?.code,
          () => undefined,
        );
        if (typeof code === 'string') end(1006, `/${path}: HTTP ${res.status} ${code}`, code);
        else end(1006, `/${path}: HTTP ${res.status}`);
      };
      const failed = (path: string) => (error: unknown) => end(1006, `/${path}: ${error}`);
      // Sends queue behind the connect, and then behind each other.
      let sent: Promise<unknown> = request('connect', {
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
            if (live) stop = run(ctx, cid, request, end, (text) => live && ctx.onMessage(text));
          }
        })
        .catch(failed('connect'));
      return {
        send(text) {
          // The handlers come after the request so that a fetch that throws at once fails the
          // send too (and the chain never holds a rejection). Once closed, `checked` sees no
          // response and `end` does nothing.
          sent = sent
            // A string body goes as text/plain, fetch's default.
            .then<unknown>(() => live && request(`send?cid=${cid}`, { method: 'POST', body: text }))
            .then(checked('send') as (res: unknown) => unknown, failed('send'));
        },
        close,
      };
    },
    // A fallback transport brings the policy that chooses between transports.
    { transportName: transport, negotiation: createNegotiation },
  );
