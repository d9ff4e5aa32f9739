/**
 * Stable error codes carried by `error` frames and by `LifelineError.code`.
 * PROTOCOL.md lists each one; a test keeps the two in step.
 */
export const ErrorCode = {
  /** The wire message is not valid JSON. */
  BAD_JSON: 'BAD_JSON',
  /** A frame is valid JSON but breaks the frame schema (missing or mistyped field). */
  BAD_FRAME: 'BAD_FRAME',
  /** The frame `type` is not one this peer knows. */
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  /** A wire message is larger than the receiving side's limit. */
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  /** The client asked for a protocol version the server does not speak. */
  UNSUPPORTED_VERSION: 'UNSUPPORTED_VERSION',
  /** The `authenticate` hook rejected the connection. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** The `authorize` hook rejected a subscribe or a publish. */
  FORBIDDEN: 'FORBIDDEN',
  /** The connection already holds the maximum number of subscriptions. */
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  /** A wire message held more frames than the server accepts in one message. */
  TOO_MANY_FRAMES: 'TOO_MANY_FRAMES',
  /** The connection published faster than the server's `publishRate`; a close 1008 follows. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** HTTP: the request's Origin is not on the server's allowlist. */
  ORIGIN_NOT_ALLOWED: 'ORIGIN_NOT_ALLOWED',
  /** HTTP: the request's Host is not one the server answers to (DNS rebinding). */
  HOST_NOT_ALLOWED: 'HOST_NOT_ALLOWED',
  /** HTTP: the client's IP address already holds the maximum number of connections. */
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  /** HTTP: the `cid` is unknown, expired or already used to open a stream. */
  UNKNOWN_CONNECTION: 'UNKNOWN_CONNECTION',
  /** HTTP: no such endpoint (or the publish API is off because no API key is set). */
  NOT_FOUND: 'NOT_FOUND',
  /** HTTP: the server is shutting down and takes no new connections. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** The broker (history/fan-out store) failed or is unreachable. */
  BROKER_UNAVAILABLE: 'BROKER_UNAVAILABLE',
  /** Anything else that went wrong inside the server. */
  INTERNAL: 'INTERNAL',
} as const;

/** One of the stable protocol error codes. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * WebSocket close codes used by Lifeline (1000–1015 are RFC 6455, 4000–4999 are ours).
 * SSE and long polling carry the same numbers in a `bye` frame.
 */
export const CloseCode = {
  /** Normal closure: the client or server ended the connection on purpose. */
  NORMAL: 1000,
  /** The peer sent something that breaks the protocol and cannot go on. */
  PROTOCOL_ERROR: 1002,
  /**
   * The client broke a budget: it published faster than `publishRate`, or sent more than the
   * server had handled yet (`maxInboundBytes`, or 16 × maxFramesPerMessage frames).
   */
  POLICY_VIOLATION: 1008,
  /** A wire message exceeded the size limit. */
  TOO_LARGE: 1009,
  /** The server hit an unexpected error. */
  INTERNAL: 1011,
  /** The server is restarting (SIGTERM); reconnect with jitter. */
  SERVICE_RESTART: 1012,
  /** Authentication failed: the token was missing or rejected. */
  UNAUTHORIZED: 4001,
  /** No `hello` frame arrived within the handshake timeout. */
  HANDSHAKE_TIMEOUT: 4002,
  /** The connection's send buffer overflowed: the client read too slowly. */
  SLOW_CONSUMER: 4003,
  /** No frame arrived within heartbeat interval + grace. */
  HEARTBEAT_TIMEOUT: 4004,
  /** The token's expiry (`expiresAt` of the principal) passed: fetch a fresh one and reconnect. */
  TOKEN_EXPIRED: 4005,
} as const;

/** One of the close codes above. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
