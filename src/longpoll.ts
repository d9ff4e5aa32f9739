/** The long-polling transport factory, for `transports` in a build with `lifeline-rt/core`. */
export { longpoll } from './transports/long-polling.js';
