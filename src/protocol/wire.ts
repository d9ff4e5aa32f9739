// Codes are written as literals (checked against the ErrorCode type) so that a client bundle
// does not carry the whole ErrorCode table. Messages are terse on purpose: every distinct
// string is bytes in the browser bundle, and the code already says what kind of failure it is.
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

const problem = (code: ErrorCode, message: string): WireProblem => ({ problem: code, message });

/** True when `value` is of the schema kind `kind` (see schema.ts). */
const kindOk = (kind: string, value: unknown): boolean =>
  kind === 'n'
    ? isSeq(value)
    : kind === 'c'
      ? isCursor(value)
      : kind === 'r'
        ? value === 'epoch' || value === 'window'
        : kind === 'd'
          ? value !== undefined
          : // Text: `s` 1–256 chars, `i` 1–64, `t` and `x` 0–4096 (the kinds that sort after `s` may be empty).
            typeof value === 'string' && value.length <= (kind === 's' ? 256 : kind === 'i' ? 64 : 4096) && (value !== '' || kind > 's');

/**
 * Splits a wire message (a JSON array of frames) into its raw frames.
 * @param maxLength refuse messages longer than this many UTF-16 units (Infinity: no limit)
 */
export function decodeWire(text: string, maxLength = Infinity): unknown[] | WireProblem {
  if (text.length > maxLength) return problem('FRAME_TOO_LARGE', 'over maxMessageSize');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return problem('BAD_JSON', 'not JSON');
  }
  return Array.isArray(parsed) ? parsed : problem('BAD_FRAME', 'not an array');
}

/**
 * Checks one raw frame against a frame table and returns a fresh object holding only the
 * known fields, so nothing else the peer sent (such as a `__proto__` key) travels further.
 */
export function validateFrame(raw: unknown, table: FrameTable): Frame | WireProblem {
  // Only objects have a `type` property: a number, string, array or null fails here too.
  const type = (raw as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') return problem('BAD_FRAME', 'no frame type');
  if (!Object.hasOwn(table, type)) return problem('UNKNOWN_TYPE', `unknown frame ${type.slice(0, 32)}`);
  const fields = table[type]!;
  const frame: Record<string, unknown> = { type };
  for (const name in fields) {
    const kind = fields[name]!;
    const value = Object.hasOwn(raw as object, name) ? (raw as Record<string, unknown>)[name] : undefined;
    if (value === undefined && kind[1]) continue;
    if (!kindOk(kind[0]!, value)) return problem('BAD_FRAME', `bad ${type}.${name}`);
    frame[name] = kind[0] === 'c' ? { epoch: (value as { epoch: string }).epoch, seq: (value as { seq: number }).seq } : value;
  }
  return frame as unknown as Frame;
}

/** Validates a frame received by a server. */
export const validateClientFrame = (raw: unknown) => validateFrame(raw, clientFrames) as ClientFrame | WireProblem;
/** Validates a frame received by a client. */
export const validateServerFrame = (raw: unknown) => validateFrame(raw, serverFrames) as ServerFrame | WireProblem;

/** Encodes frames as one wire message (a JSON array). */
export const encodeWire = (frames: readonly Frame[]): string => JSON.stringify(frames);
