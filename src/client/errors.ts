import type { ErrorCode } from '../protocol/index.js';
import type { TransportName } from '../transports/transport.js';

/**
 * Codes the client itself gives its errors, besides the server's {@link ErrorCode}s
 * (which reach the app from `error` frames, e.g. `FORBIDDEN` for a refused publish):
 * - `CONNECT_TIMEOUT`: no transport delivered the server's welcome within `connectTimeout`.
 * - `CONNECT_FAILED`: every transport closed before a welcome arrived; `attempts` says what each saw.
 * - `HEARTBEAT_TIMEOUT`: nothing arrived for heartbeat + grace (half the heartbeat, at least
 *   500 ms); the connection was presumed dead.
 * - `SERVER_CLOSED`: the server sent `bye`, or closed a welcomed WebSocket with a code other than
 *   1000, 1001, 1005 or 1006 (the message carries its close code and reason).
 * - `TOKEN_FAILED`: the `token` function threw or rejected (the error is the `cause`), or gave
 *   something that is not a string.
 * - `LISTENER_ERROR`: an application listener threw (the error is the `cause`); the client goes on.
 * - `OUTBOX_FULL`: `publish` was refused because `outboxSize` publishes (or `outboxChars`
 *   characters of them) await their ack.
 * - `CLOSED`: `publish` after or during `close()`.
 * - `BAD_DATA`: `publish` was refused before sending: its data holds something JSON would drop or
 *   change (`undefined`, a function, a symbol, a BigInt, a non-finite number, a cycle, a `Map`, a
 *   `Set`, a class instance without `toJSON`).
 * - `BAD_JSON`, `BAD_FRAME`, `FRAME_TOO_LARGE`, `UNSUPPORTED_VERSION`: the server sent something
 *   this client cannot read; it reconnects. Only the development build checks each field of a
 *   frame; production checks that a frame is an object with a `type`. `FRAME_TOO_LARGE` also rejects a publish whose frame
 *   is over the client's `maxMessageSize` (or, from the server, over the server's).
 */
export type ClientErrorCode =
  | 'CONNECT_TIMEOUT'
  | 'CONNECT_FAILED'
  | 'HEARTBEAT_TIMEOUT'
  | 'SERVER_CLOSED'
  | 'TOKEN_FAILED'
  | 'LISTENER_ERROR'
  | 'OUTBOX_FULL'
  | 'BAD_DATA'
  | 'CLOSED';

/** Every code a {@link LifelineError} can carry. */
export type LifelineErrorCode = ClientErrorCode | ErrorCode;

/** What one transport saw in a failed connect attempt. */
export interface ConnectAttempt {
  transport: TransportName;
  /** How it ended, e.g. `closed 1006` or `/connect: HTTP 404`. */
  reason: string;
}

/** The one error class of the client: a stable `code`, a readable message, and the `cause` when it wraps one. */
export class LifelineError extends Error {
  /** For `CONNECT_FAILED` and `CONNECT_TIMEOUT`: what each transport of the attempt saw, in the order they ended. */
  attempts?: ConnectAttempt[];
  /**
   * @param code stable, documented code to branch on (messages may change)
   * @param cause the error this one wraps, if any
   */
  constructor(
    readonly code: LifelineErrorCode,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'LifelineError';
  }
}

/**
 * The client's own error for `code`. Its message is the code in the production build and
 * `code: explanation` in the development build; call sites pass the explanation as
 * `__DEV__ && ...`, so production carries none of the sentences.
 */
export const problem = (code: LifelineErrorCode, explanation?: string | false, cause?: unknown): LifelineError =>
  new LifelineError(code, explanation ? `${code}: ${explanation}` : code, cause);
