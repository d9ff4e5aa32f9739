/**
 * Field rules for every frame type, by sender. One table drives validation on both sides,
 * and PROTOCOL.md is checked against its keys by a test.
 *
 * Kinds: `s` non-empty string (≤ 256 chars), `t` token string (≤ 4096), `x` any text (≤ 4096),
 * `i` message id (1–64 chars), `n` whole number ≥ 0, `c` cursor, `d` any JSON value (required),
 * `r` gap reason. A trailing `?` marks an optional field.
 */
export const clientFrames = {
  hello: { v: 'n', token: 't?' },
  sub: { channel: 's', since: 'c?', rid: 'i?' },
  unsub: { channel: 's' },
  pub: { id: 'i', channel: 's', data: 'd' },
  bye: {},
  ping: {},
  pong: {},
} as const;

/** Field rules for frames a server sends; see {@link clientFrames}. */
export const serverFrames = {
  welcome: { v: 'n', cid: 's', heartbeat: 'n', time: 'n' },
  subscribed: { channel: 's', epoch: 's', seq: 'n', rid: 'i?' },
  gap: { channel: 's', epoch: 's', seq: 'n', reason: 'r', from: 'c', rid: 'i?' },
  msg: { channel: 's', epoch: 's', seq: 'n', data: 'd' },
  ack: { id: 'i', channel: 's', epoch: 's', seq: 'n' },
  error: { code: 's', message: 'x', id: 'i?', channel: 's?', rid: 'i?' },
  bye: { code: 'n', reason: 'x', spread: 'n?' },
  ping: {},
  pong: {},
} as const;

/** A frame table: frame type → field name → kind. */
export type FrameTable = Readonly<Record<string, Readonly<Record<string, string>>>>;
