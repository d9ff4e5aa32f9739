/**
 * A position in a channel's log: every message after `seq` within `epoch` is still to come.
 * `seq` 0 means "before the first message".
 */
export interface Cursor {
  /** Identity of the channel's history; changes when history is lost (e.g. a memory broker restarts). */
  epoch: string;
  /** Sequence number of the last message covered by this cursor (0 = none). */
  seq: number;
}

/** True when `value` is a well-formed cursor (non-empty epoch, whole seq ≥ 0). */
export function isCursor(value: unknown): value is Cursor {
  if (typeof value !== 'object' || value === null) return false;
  const { epoch, seq } = value as Record<string, unknown>;
  return typeof epoch === 'string' && epoch.length > 0 && epoch.length <= 256 && isSeq(seq);
}

/** True for a whole, non-negative, safe sequence number. */
export function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
