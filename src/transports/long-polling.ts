import { httpTransport } from './http.js';
import type { TransportFactory } from './transport.js';

/**
 * The long-polling transport: `POST {url}/connect` for a cid, then `GET {url}/poll?cid=&ack=K`
 * one after another, where K counts the frames received so far (so a poll the browser repeats
 * after a drop gets the same frames again). Every answer, `[]` included (it is the long poll's
 * heartbeat), goes to the session; any answer other than 200 with a JSON array (a 204, a 500,
 * a captive portal's HTML) ends the transport with 1006. A `bye` frame ends it with 1000 after
 * the session has read it. Client frames go by `POST {url}/send?cid=`.
 */
export const longpoll: TransportFactory = /* @__PURE__ */ httpTransport('longpoll', (_, cid, request, end, receive) => {
  const poll = (ack: number): unknown =>
    request(`poll?cid=${cid}&ack=${ack}`)
      .then(async (res) => {
        if (res.status !== 200) return end(1006, `/poll: HTTP ${res.status}`);
        const text = await res.text();
        // A body that is not a JSON array throws here (no `.some`), before the session sees it.
        const frames = JSON.parse(text) as { type?: unknown }[];
        const bye = frames.some((frame) => frame?.type === 'bye');
        receive(text);
        if (bye) end(1000, 'bye');
        else poll(ack + frames.length);
      })
      // A failed request or body read (close() aborts both) ends the transport; after close() it is a no-op.
      .catch((error) => end(1006, `/poll: ${error}`));
  poll(0);
});
