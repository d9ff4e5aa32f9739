// How the server reacts to a broker that fails: the hub retries a subscribe, the inbound path
// retries a publish, the HTTP API and /health report the error. One policy for all of them.

/** First retry delay (ms) after a broker failure. */
const RETRY_FIRST = 250;
/** Longest retry delay (ms): a broker outage is usually short (a Redis restart). */
const RETRY_MAX = 5_000;

/**
 * Delay (ms) before retry number `attempt` (0 for the first) of an operation the broker failed:
 * capped exponential backoff, jittered between half and all of it so that every connection
 * waiting on the same outage does not retry in step. `random` is injectable for tests.
 */
export function brokerRetryDelay(attempt: number, random: () => number = Math.random): number {
  return Math.min(RETRY_MAX, RETRY_FIRST * 2 ** attempt) * (0.5 + random() / 2);
}

/** A short description of an unknown thrown value, fit for an error frame or an HTTP body. */
export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error)).slice(0, 512);
