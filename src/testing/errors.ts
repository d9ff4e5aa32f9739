/**
 * Codes of {@link TestServerError}:
 * - `WAIT_TIMEOUT`: a `waitFor…` did not see what it awaited within its timeout (the message
 *   names what was awaited and what was seen).
 * - `NOT_LOOPBACK`: `host` named something other than a loopback address.
 * - `BAD_OPTION`: an option of `createTestServer` or of a fault control is not usable.
 * - `CLOSED`: the test server was closed (a wait pending at that moment rejects with it).
 * - `RESTART_FAILED`: `restart()` could not listen on the same port again.
 */
export type TestServerErrorCode = 'WAIT_TIMEOUT' | 'NOT_LOOPBACK' | 'BAD_OPTION' | 'CLOSED' | 'RESTART_FAILED';

/** The testing kit's error: a stable `code` to branch on and a message that says what happened. */
export class TestServerError extends Error {
  /**
   * @param code stable, documented code (messages may change)
   * @param cause the error this one wraps, if any
   */
  constructor(
    readonly code: TestServerErrorCode,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'TestServerError';
  }
}
