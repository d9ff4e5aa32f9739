import { TestServerError } from './errors.js';

/** How often a wait looks again: short enough not to slow a test, long enough to cost nothing. */
const POLL_MS = 10;

/** What one wait needs: what it awaits, how to check, how to say what it saw instead. */
export interface WaitSpec<T> {
  /** Used in the timeout's message: `<awaited> within <timeout> ms`. */
  awaited: string;
  /** Returns the awaited value once it is there, `undefined` until then. */
  check: () => T | undefined;
  /** Describes the current state for the timeout's message. */
  seen: () => string;
  /** ms before giving up. */
  timeout: number;
}

/**
 * Waits that end when the test server closes: each polls its check, resolves with the first
 * value it returns, and rejects with `WAIT_TIMEOUT` (or `CLOSED`) naming what was awaited and
 * what was seen. No wait outlives its timeout, so none can hold a test process open.
 */
export class Waits {
  private readonly pending = new Set<(error: TestServerError) => void>();

  /** Starts a wait; see {@link WaitSpec}. */
  until<T>({ awaited, check, seen, timeout }: WaitSpec<T>): Promise<T> {
    if (!Number.isFinite(timeout) || timeout < 0) {
      return Promise.reject(new TestServerError('BAD_OPTION', `timeout must be a number of ms ≥ 0, got ${String(timeout)}`));
    }
    const first = check();
    if (first !== undefined) return Promise.resolve(first);
    return new Promise<T>((resolve, reject) => {
      const deadline = Date.now() + timeout;
      let timer: NodeJS.Timeout | undefined;
      const finish = (error: TestServerError | undefined, value?: T) => {
        clearTimeout(timer);
        this.pending.delete(abort);
        if (error) reject(error);
        else resolve(value as T);
      };
      const abort = (error: TestServerError) => finish(error);
      const look = () => {
        let value: T | undefined;
        try {
          value = check();
        } catch (error) {
          // A predicate that throws ends the wait with its error rather than spinning on it.
          clearTimeout(timer);
          this.pending.delete(abort);
          reject(error);
          return;
        }
        if (value !== undefined) return finish(undefined, value);
        const left = deadline - Date.now();
        if (left <= 0)
          return finish(new TestServerError('WAIT_TIMEOUT', `Timed out waiting for ${awaited} within ${timeout} ms; seen: ${seen()}`));
        timer = setTimeout(look, Math.min(POLL_MS, left));
      };
      this.pending.add(abort);
      timer = setTimeout(look, Math.min(POLL_MS, timeout));
    });
  }

  /** Rejects every pending wait with `CLOSED`. */
  abortAll(reason: string): void {
    for (const abort of [...this.pending]) abort(new TestServerError('CLOSED', reason));
  }
}
