import { PROTOCOL_VERSION } from '../protocol/frames.js';
import type { Transport, TransportContext, TransportName } from './transport.js';

/** What an HTTP-based transport's stream or poll loop gets from {@link httpTransport}. */
export interface HttpLink {
  /** The one-time connection id from `POST /connect`. Already URL-encoded. */
  cid: string;
  /** fetch on `{url}/{path}`, aborted when the transport ends. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Ends the transport and reports `onClose` once; a no-op after `close()`. */
  end(code: number, reason: string): void;
}

/**
 * Maps a refused HTTP answer to the close code the session reacts to: 401 means the token
 * must be fetched again, 429 too many connections; anything else is a drop.
 */
export const httpClose = (link: Pick<HttpLink, 'end'>, what: string, res: Response) =>
  link.end(res.status === 401 ? 4001 : res.status === 429 ? 4005 : 1006, `${what}: HTTP ${res.status}`);

/**
 * The part SSE and long polling share: `POST {url}/connect` (the token in the
 * `Authorization` header, never in a URL), then `run` with the cid, and client frames as
 * `POST {url}/send?cid=` one at a time, in order. A failed send ends the transport: the
 * session resends what matters after it reconnects.
 *
 * @param run starts the downstream half; returns what to tear down on close.
 */
export const httpTransport = (
  ctx: TransportContext,
  transport: Exclude<TransportName, 'websocket'>,
  run: (link: HttpLink) => (() => void) | void,
): Transport => {
  const abort = new AbortController();
  let live = true;
  let stop: (() => void) | void;
  let sent: Promise<unknown> = Promise.resolve();
  const close = () => {
    live = false;
    abort.abort();
    stop?.();
  };
  const link: HttpLink = {
    cid: '',
    // Called unbound: a browser's fetch throws "Illegal invocation" when called as ctx.fetch().
    request: (path, init) => (ctx.fetch || fetch)(`${ctx.url}/${path}`, { ...init, signal: abort.signal }),
    end(code, reason) {
      if (live) {
        close();
        ctx.onClose({ code, reason });
      }
    },
  };
  const failed = (what: string) => (error: unknown) => link.end(1006, `${what} failed: ${error}`);
  // Starting in a `then` turns a missing fetch into a failed transport instead of a throw.
  Promise.resolve()
    .then(() =>
      link.request('connect', {
        method: 'POST',
        headers: ctx.token ? { Authorization: `Bearer ${ctx.token}` } : {},
        body: JSON.stringify({ v: PROTOCOL_VERSION, transport }),
      }),
    )
    .then(async (res) => {
      if (!res.ok) return httpClose(link, 'POST /connect', res);
      const { cid } = await res.json();
      if (typeof cid !== 'string') throw 'no cid';
      link.cid = encodeURIComponent(cid);
      if (live) stop = run(link);
    })
    .catch(failed('POST /connect'));
  return {
    send(text) {
      // Chained so the server sees frames in the order the session sent them.
      sent = sent.then<unknown>(
        () =>
          live &&
          link
            .request(`send?cid=${link.cid}`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: text })
            .then((res) => res.ok || httpClose(link, 'POST /send', res), failed('POST /send')),
      );
    },
    close,
  };
};
