// Codes are written as literals (checked against the ErrorCode type) so that a client bundle
// does not carry the whole ErrorCode table. Messages are for people: the production client
// build drops them (`__DEV__`), where the code says what kind of failure it is.
import type { ErrorCode } from './codes.js';
import { isCursor, isSeq } from './cursor.js';
import type { ClientFrame, Frame, ServerFrame } from './frames.js';
import { clientFrames, serverFrames, type FrameTable } from './schema.js';

/** Why a wire message or a frame was refused: a stable code and a readable message. */
export interface WireProblem {
  /** Stable error code; the key's presence is what tells a problem from a frame. */
  problem: ErrorCode;
  message: string;
}

/** True when `value` is a {@link WireProblem} rather than a frame. */
export const isProblem = (value: unknown): value is WireProblem => !!(value as WireProblem | null)?.problem;

/**
 * A problem. Call sites pass the message as `__DEV__ && ...`: the server and the development
 * client say it, the production client carries only the code.
 */
const problem = (code: ErrorCode, message: string | false): WireProblem => ({ problem: code, message: message || '' });

/** A string of `min` to `max` characters. */
const isText = (value: unknown, min: number, max: number) => typeof value === 'string' && value.length >= min && value.length <= max;

/** The rule of each field kind of schema.ts. */
const kinds: Record<string, (value: unknown) => boolean> = {
  /** Names: channels, epochs, cids, codes. */
  s: (value) => isText(value, 1, 256),
  /** Tokens and free text, which may be empty. */
  t: (value) => isText(value, 0, 4096),
  x: (value) => isText(value, 0, 4096),
  /** Message ids. */
  i: (value) => isText(value, 1, 64),
  n: isSeq,
  c: isCursor,
  /** Any JSON value; a missing one is not data. */
  d: (value) => value !== undefined,
  r: (value) => value === 'epoch' || value === 'window',
};

/**
 * Splits a wire message (a JSON array of frames) into its raw frames.
 * @param maxLength refuse messages longer than this many UTF-16 units (Infinity: no limit)
 */
export function decodeWire(text: string, maxLength = Infinity): unknown[] | WireProblem {
  if (text.length > maxLength) return problem('FRAME_TOO_LARGE', __DEV__ && 'over maxMessageSize');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return problem('BAD_JSON', __DEV__ && 'not JSON');
  }
  return Array.isArray(parsed) ? parsed : problem('BAD_FRAME', __DEV__ && 'not an array');
}

/**
 * Checks one raw frame against a frame table and returns a fresh object holding only the
 * known fields, so nothing else the peer sent (such as a `__proto__` key) travels further.
 */
export function validateFrame(raw: unknown, table: FrameTable): Frame | WireProblem {
  // Only objects have a `type` property: a number, string, array or null fails here too.
  const type = (raw as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') return problem('BAD_FRAME', __DEV__ && 'no frame type');
  if (!Object.hasOwn(table, type)) return problem('UNKNOWN_TYPE', __DEV__ && `unknown frame ${type.slice(0, 32)}`);
  const fields = table[type]!;
  const frame: Record<string, unknown> = { type };
  for (const name in fields) {
    // `kind` is a letter of schema.ts, with `?` after it for an optional field.
    const [kind, optional] = fields[name]!;
    const value = Object.hasOwn(raw as object, name) ? (raw as Record<string, unknown>)[name] : undefined;
    if (value === undefined && optional) continue;
    if (!kinds[kind!]!(value)) return problem('BAD_FRAME', __DEV__ && `bad ${type}.${name}`);
    // A cursor is copied field by field, so nothing else the peer put in it travels on.
    frame[name] = kind === 'c' ? { epoch: (value as { epoch: string }).epoch, seq: (value as { seq: number }).seq } : value;
  }
  return frame as unknown as Frame;
}

/** Validates a frame received by a server. */
export const validateClientFrame = (raw: unknown) => validateFrame(raw, clientFrames) as ClientFrame | WireProblem;
/**
 * Validates a frame received by a client. The development build checks every field against
 * the frame table and names the bad one, so a server that strays from PROTOCOL.md is caught
 * where it is being written; the production build checks only that the frame is an object
 * with a string `type`, and trusts the server for the fields (about 300 bytes of the bundle).
 */
export const validateServerFrame = (raw: unknown) =>
  (__DEV__
    ? validateFrame(raw, serverFrames)
    : typeof (raw as { type?: unknown } | null)?.type === 'string'
      ? raw
      : problem('BAD_FRAME', false)) as ServerFrame | WireProblem;

/** Encodes frames as one wire message (a JSON array). */
export const encodeWire = (frames: readonly Frame[]): string => JSON.stringify(frames);
