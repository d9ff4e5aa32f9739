import { createNanoEvents } from 'nanoevents';
import { type Cursor, type ErrorFrame, type GapFrame, isCursor, type MsgFrame, type SubscribedFrame } from '../protocol/index.js';
import { badOption, checkChannel } from './options.js';
import { applyChannelFrame, type SubRecord } from './resume.js';
import type { Subscription, SubscriptionEvents } from './types.js';

/** A frame about one channel's subscription. */
export type ChannelFrame = SubscribedFrame | GapFrame | MsgFrame | (ErrorFrame & { channel: string });

/**
 * The client's subscriptions: each one's cursor, and the answers still owed to the `sub` frames
 * sent on the current link. The session owns the link; this module owns everything per channel.
 */
export interface Subscriptions {
  /** Subscribes (or returns the active subscription of `channel`) and sends its `sub`. */
  subscribe(channel: string, since: Cursor | undefined): Subscription;
  /** A new link is up: the `sub` frames resuming every subscription after its cursor. */
  resumeFrames(): string[];
  /** Applies a frame naming a channel: delivery, gaps, and the answers to `sub`. */
  handle(frame: ChannelFrame): void;
}

/**
 * @param send sends one wire message on the current link, if there is one
 * @param guard wraps an application listener so that a throw is reported, not propagated
 */
export function createSubscriptions(
  send: (text: string) => void,
  guard: <F extends (...args: never[]) => void>(listener: F) => F,
): Subscriptions {
  const records = new Map<string, SubRecord>();
  /**
   * Answers still owed per channel to the `sub` frames sent on the current link. Only the last
   * one is applied: after unsubscribe + subscribe of a channel (React's StrictMode does it on
   * every mount), the answer to the old `sub` must not reset the new subscription's cursor.
   */
  let owed: Record<string, number> = {};

  /** The `sub` frame resuming `record` after its cursor, counted as owed an answer. */
  const subFrame = (record: SubRecord) => {
    record.pending = true;
    owed[record.channel] = (owed[record.channel] ?? 0) + 1;
    return JSON.stringify({ type: 'sub', channel: record.channel, since: record.cursor });
  };
  const resubscribe = (record: SubRecord) => send(`[${subFrame(record)}]`);
  /** Counts an answer for `channel`; true when it answers the last `sub` sent. */
  const answersLast = (channel: string) => {
    const count = owed[channel];
    if (!count) return true;
    owed[channel] = count - 1;
    return count === 1;
  };

  return {
    subscribe(channel, since) {
      checkChannel(channel);
      if (since !== undefined && !isCursor(since)) badOption('since', since);
      const active = records.get(channel);
      if (active) return active;
      const events = createNanoEvents<SubscriptionEvents>();
      const record: SubRecord = {
        channel,
        // A copy, so the caller's object is never changed behind its back.
        cursor: since && { epoch: since.epoch, seq: since.seq },
        events,
        pending: false,
        on: (event, listener) => events.on(event, guard(listener)),
        unsubscribe() {
          events.events = {};
          // A later subscribe to the channel made a new record: leave that one alone.
          if (records.get(channel) !== record) return;
          records.delete(channel);
          send(JSON.stringify([{ type: 'unsub', channel }]));
        },
      };
      records.set(channel, record);
      resubscribe(record);
      return record;
    },
    resumeFrames() {
      owed = {};
      return [...records.values()].map(subFrame);
    },
    handle(frame) {
      const record = records.get(frame.channel);
      if (frame.type === 'msg') {
        if (record) applyChannelFrame(record, frame, resubscribe);
        return;
      }
      // An answer to an earlier `sub` of the channel is dropped: its replay may still deliver, in order.
      if (!answersLast(frame.channel) || !record) return;
      // A refused `sub` is not pending any more; the session reports the error.
      if (frame.type === 'error') record.pending = false;
      else applyChannelFrame(record, frame, resubscribe);
    },
  };
}
