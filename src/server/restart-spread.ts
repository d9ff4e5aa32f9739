// A restart ends every connection of a node at once. If each client reconnected after its own
// short backoff, they would all land within a second (issue 11: 91.8 % in one sliding second
// for 500 clients). The `bye` for 1012 tells each client the window to spread its reconnect over.

/**
 * Shortest window (ms): over 8 s about an eighth of the clients come back each second. Over 5 s
 * (a fifth) the bench's fullest second reached 25 % in two of four runs: the clients whose turn
 * comes while the new process is still starting retry together just after it is up.
 */
export const MIN_RESTART_SPREAD = 8_000;
/** Longest window (ms): every client is back within a minute, however many the node held. */
export const MAX_RESTART_SPREAD = 60_000;

/**
 * The window (ms) a node restarting with `connections` clients asks them to spread their
 * reconnects over: long enough for `rate` reconnects a second, within
 * [`min` ({@link MIN_RESTART_SPREAD} by default), {@link MAX_RESTART_SPREAD}].
 */
export function restartSpread(connections: number, rate: number, min: number = MIN_RESTART_SPREAD): number {
  return Math.round(Math.min(MAX_RESTART_SPREAD, Math.max(min, (1000 * connections) / rate)));
}
