import type { Emitter } from 'nanoevents';
import type { Cursor, GapFrame, MsgFrame, SubscribedFrame } from '../protocol/index.js';
import type { Subscription, SubscriptionEvents } from './types.js';

/** The client's side of one subscription: its public face plus resume state. */
export interface SubRecord extends Subscription {
  cursor: Cursor | undefined;
  events: Emitter<SubscriptionEvents>;
  /** A `sub` is in flight: don't ask again until `subscribed` or `gap` answers it. */
  pending: boolean;
}

/**
 * Applies a channel frame to its subscription: delivers each message once and in order, drops
 * repeats, repairs holes by resuming after the cursor (`resend`), and reports gaps.
 */
export function applyChannelFrame(sub: SubRecord, frame: SubscribedFrame | GapFrame | MsgFrame, resend: (sub: SubRecord) => unknown): void {
  // The app gets only the documented fields: the production build passes the server's frames
  // on unchecked, and a newer server may add fields.
  const { type, channel, epoch, seq } = frame;
  const cursor = sub.cursor;
  const sameEpoch = cursor?.epoch === epoch;
  if (type === 'msg') {
    if (sameEpoch && seq <= cursor.seq) return;
    if (sameEpoch && seq === cursor.seq + 1) {
      sub.cursor = { epoch, seq };
      sub.events.emit('message', (frame as MsgFrame).data, { channel, epoch, seq });
    } else if (cursor && !sub.pending) {
      // A hole (or another epoch): something was lost. Resuming after the cursor makes the
      // server replay it; until then later messages are dropped and come again in the replay.
      sub.pending = true;
      resend(sub);
    }
    // Without a cursor the subscription's `subscribed` has not arrived yet: nothing to place it after.
    return;
  }
  sub.pending = false;
  // `subscribed` for a resume echoes our cursor; keeping ours never moves delivery backwards.
  if (type === 'gap' || !sameEpoch) sub.cursor = { epoch, seq };
  if (type === 'gap') sub.events.emit('gap', { channel, epoch, seq, reason: frame.reason, from: frame.from });
}
