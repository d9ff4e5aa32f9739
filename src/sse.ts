/** The Server-Sent Events transport factory, for `transports` in a build with `lifeline/core`. */
export { sse } from './transports/sse.js';
