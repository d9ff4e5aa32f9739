/** The WebSocket transport factory, for `transports` in a build with `lifeline-rt/core`. */
export { websocket } from './transports/websocket.js';
