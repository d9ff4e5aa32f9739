import { PROTOCOL_VERSION, type HelloFrame } from '../protocol/frames.js';
import type { Transport, TransportContext, TransportFactory } from './transport.js';

// A discarded socket keeps no-op handlers rather than none: the `ws` package throws an
// unhandled 'error' when a socket closed while CONNECTING has no error listener.
const ignore = () => {};

/**
 * The WebSocket transport: `GET {url}/ws` upgraded, with `http(s)` turned into `ws(s)`.
 * The token travels in the first frame (`hello`), never in the URL. Reports the socket's
 * real close code (1006 when the connection dropped without a close frame).
 */
export const websocket: TransportFactory = Object.assign(
  (ctx: TransportContext): Transport => {
    let live = true;
    let socket: WebSocket | undefined;
    const close = () => {
      live = false;
      if (socket) {
        socket.onopen = socket.onmessage = socket.onclose = ignore;
        socket.close();
      }
    };
    const end = (code: number, reason: string) => {
      if (live) {
        close();
        ctx.onClose({ code, reason });
      }
    };
    try {
      const ws = (socket = new (ctx.WebSocket || WebSocket)(ctx.url.replace(/^http/, 'ws') + '/ws'));
      ws.onerror = ignore; // always followed by a close event, which carries the code
      ws.onopen = () => ws.send(JSON.stringify([{ type: 'hello', v: PROTOCOL_VERSION, token: ctx.token } satisfies HelloFrame]));
      ws.onmessage = (event) => ctx.onMessage('' + event.data);
      ws.onclose = (event) => end(event.code, event.reason);
    } catch (error) {
      // No WebSocket here, or a URL it refuses: fail like a refused connection, but never
      // call back before the session holds the transport.
      queueMicrotask(() => end(1006, '' + error));
    }
    return {
      send: (text) => socket?.readyState === 1 && socket.send(text),
      close,
    };
  },
  { transportName: 'websocket' as const },
);
