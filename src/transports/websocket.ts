import { PROTOCOL_VERSION, type HelloFrame } from '../protocol/frames.js';
import type { Transport, TransportContext, TransportFactory } from './transport.js';

// A finished socket keeps no-op handlers rather than none: the `ws` package throws an
// unhandled 'error' when a socket closed while CONNECTING has no error listener.
const ignore = () => {};

/**
 * The WebSocket transport: `GET {url}/ws` upgraded, with `http(s)` turned into `ws(s)`, on the
 * injected WebSocket, else the global one. The token travels in the first frame (`hello`),
 * never in the URL. Reports the socket's real close code (1006 when the connection dropped
 * without a close frame). Throws what the WebSocket constructor throws (no WebSocket here, a
 * URL it refuses); the session counts that as a failed transport.
 */
export const websocket: TransportFactory = /* @__PURE__ */ Object.assign(
  (ctx: TransportContext): Transport => {
    const socket = new (ctx.WebSocket || WebSocket)(ctx.url.replace(/^http/, 'ws') + '/ws');
    // Swapping the handlers out is what guarantees no callback after close() or onClose.
    const close = () => {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = ignore;
      socket.close();
    };
    // Browsers follow an error with a 1006 close; Node 20's WebSocket fires only the error when
    // the handshake fails, so the error ends the transport itself.
    const end = ({ code = 1006, reason = 'WebSocket error' }: Partial<CloseEvent>) => {
      close();
      ctx.onClose({ code, reason });
    };
    socket.onopen = () => socket.send(JSON.stringify([{ type: 'hello', v: PROTOCOL_VERSION, token: ctx.token } satisfies HelloFrame]));
    socket.onmessage = (event) => ctx.onMessage(event.data);
    socket.onerror = socket.onclose = end;
    return {
      // The session sends only after the welcome; this guards a CONNECTING socket, which throws.
      send: (text) => socket.readyState === 1 && socket.send(text),
      close,
    };
  },
  { transportName: 'websocket' as const },
);
