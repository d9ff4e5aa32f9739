/** The Server-Sent Events transport factory, for `transports` in a build with `lifeline-rt/core`. */
export { sse } from './transports/sse.js';
