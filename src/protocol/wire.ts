// Codes are written as literals (checked against the ErrorCode type) so that a client bundle
// does not carry the whole ErrorCode table.
import type { ErrorCode } from './codes.js';
import { isCursor, isSeq } from './cursor.js';
import type { ClientFrame, Frame, ServerFrame } from './frames.js';
import { clientFrames, serverFrames, type FrameTable } from './schema.js';

/** Why a wire message or a frame was refused: a stable code and a readable message. */
export interface WireProblem {
  /** Stable error code; the key's presence is what tells a problem from a frame. */
  problem: ErrorCode;
  message: string;
  /** The frame type, when the problem is inside one frame. */
  type?: string;
}

/** True when `value` is a {@link WireProblem} rather than a frame. */
export const isProblem = (value: unknown): value is WireProblem =>
  typeof value === 'object' && value !== null && 'problem' in value;

const problem = (code: ErrorCode, message: string, type?: string): WireProblem =>
  type === undefined ? { problem: code, message } : { problem: code, message, type };

const textOk = (v: unknown, max: number, min = 1) =>
  typeof v === 'string' && v.length >= min && v.length <= max;

const kindOk: Record<string, (v: unknown) => boolean> = {
  s: (v) => textOk(v, 256),
  t: (v) => textOk(v, 4096, 0),
  x: (v) => textOk(v, 4096, 0),
  i: (v) => textOk(v, 64),
  n: isSeq,
  c: isCursor,
  d: (v) => v !== undefined,
  r: (v) => v === 'epoch' || v === 'window',
};

/**
 * Splits a wire message (a JSON array of frames) into its raw frames.
 * @param maxLength refuse messages longer than this many UTF-16 units (Infinity: no limit)
 */
export function decodeWire(text: string, maxLength = Infinity): unknown[] | WireProblem {
  if (text.length > maxLength) return problem('FRAME_TOO_LARGE', `Message of ${text.length} chars exceeds ${maxLength}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return problem('BAD_JSON', 'Message is not valid JSON');
  }
  return Array.isArray(parsed) ? parsed : problem('BAD_FRAME', 'Message must be a JSON array of frames');
}

/**
 * Checks one raw frame against a frame table and returns a fresh object holding only the
 * known fields, so nothing else the peer sent (such as a `__proto__` key) travels further.
 */
export function validateFrame(raw: unknown, table: FrameTable): Frame | WireProblem {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return problem('BAD_FRAME', 'Frame must be a JSON object');
  const { type } = raw as { type?: unknown };
  if (typeof type !== 'string') return problem('BAD_FRAME', 'Frame has no string "type"');
  if (!Object.prototype.hasOwnProperty.call(table, type)) return problem('UNKNOWN_TYPE', `Unknown frame type "${type.slice(0, 32)}"`, type);
  const fields = table[type]!;
  const frame: Record<string, unknown> = { type };
  for (const name of Object.keys(fields)) {
    const kind = fields[name]!;
    const value = Object.prototype.hasOwnProperty.call(raw, name) ? (raw as Record<string, unknown>)[name] : undefined;
    if (value === undefined && kind.endsWith('?')) continue;
    if (!kindOk[kind[0]!]!(value)) return problem('BAD_FRAME', `Frame "${type}" has an invalid "${name}"`, type);
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
