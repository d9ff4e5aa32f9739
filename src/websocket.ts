/** The WebSocket transport factory, for `transports` in a build with `lifeline/core`. */
export { websocket } from './transports/websocket.js';
