import { httpClose, httpTransport, type HttpLink } from './http.js';
import type { TransportContext, TransportFactory } from './transport.js';

/**
 * Polls `GET {url}/poll?cid=&ack=K` until the transport ends. K counts the frames received
 * so far, so a poll the browser repeats after a drop gets the same frames again. Every
 * answer, `[]` included, goes to the session: it is the long poll's heartbeat.
 */
const poll = (ctx: TransportContext, link: HttpLink, ack: number): unknown =>
  link.request(`poll?cid=${link.cid}&ack=${ack}`).then(async (res) => {
    if (res.status !== 200) return httpClose(link, 'GET /poll', res);
    const text = await res.text();
    let frames: unknown;
    try {
      frames = JSON.parse(text);
    } catch {}
    if (!Array.isArray(frames)) return link.end(1002, 'GET /poll: not a JSON array');
    ctx.onMessage(text);
    // The server ends a long-poll connection with a `bye` frame: the session reads it, and
    // the transport stops here with the code it carries.
    const bye = frames.find((frame) => frame?.type === 'bye');
    if (bye) return link.end(typeof bye.code === 'number' ? bye.code : 1000, '' + bye.reason);
    poll(ctx, link, ack + frames.length);
  }, (error) => link.end(1006, `GET /poll failed: ${error}`));

/**
 * The long-polling transport: `POST {url}/connect` for a cid, then one `GET {url}/poll`
 * after another; client frames go by `POST {url}/send?cid=`. Any answer other than 200 with
 * a JSON array (a 204, a 500, a captive portal's HTML) ends the transport.
 */
export const longpoll: TransportFactory = Object.assign(
  (ctx: TransportContext) => httpTransport(ctx, 'longpoll', (link) => void poll(ctx, link, 0)),
  { transportName: 'longpoll' as const },
);
