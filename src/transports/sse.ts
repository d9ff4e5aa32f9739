import { httpTransport } from './http.js';
import type { TransportFactory } from './transport.js';

/**
 * The Server-Sent Events transport: `POST {url}/connect` for a one-time cid, then an
 * EventSource on `{url}/sse?cid=` (the injected one, else the global); client frames go by
 * `POST {url}/send?cid=`. The stream is closed at its first error, because the browser's own
 * retry would reconnect without a resume cursor: the session reconnects instead.
 */
export const sse: TransportFactory = /* @__PURE__ */ httpTransport('sse', (ctx, cid, _, end, receive) => {
  const source = new (ctx.EventSource || EventSource)(`${ctx.url}/sse?cid=${cid}`);
  source.onmessage = (event) => receive(event.data);
  source.onerror = () => end(1006, '/sse: stream failed');
  // A closed EventSource fires nothing more, and `receive` and `end` are no-ops once closed anyway.
  return () => source.close();
});
