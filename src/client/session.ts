import { createNanoEvents } from 'nanoevents';
import { isCursor, type ClientFrame, type Cursor, type ServerFrame, type WelcomeFrame } from '../protocol/index.js';
import type { TransportFactory, TransportName } from '../transports/transport.js';
import { reconnectDelay } from './backoff.js';
import { LifelineError, type LifelineErrorCode } from './errors.js';
import { createLink, type Link } from './link.js';
import { checkChannel, fail, resolveOptions, type ClientOptions } from './options.js';
import { isOnline, isVisible, watchPage } from './page-life.js';
import { applyChannelFrame, type SubRecord } from './resume.js';
import { transportMemory } from './transport-memory.js';
import type { Client, ClientEvents, ClientState, SubscriptionEvents } from './types.js';

// Numbers as `const enum` members, so they are inlined and a bundle carries no names for them.
const enum Flap {
  // A transport whose connections die within `stableAfter` of their welcome `Count` times in
  // `Window` ms is skipped for `Demote` ms: some proxies accept a protocol and then kill it.
  Count = 3,
  Window = 60_000,
  Demote = 300_000,
}
const enum Probe {
  // On a fallback, a better transport is tried quietly after `Delay` ms of service; each failed
  // probe doubles the wait, up to `Max`.
  Delay = 30_000,
  Max = 600_000,
}
/** Timer slots. */
const enum Slot {
  Retry,
  Stagger,
  Timeout,
  Beat,
  Probe,
}

/**
 * Creates a client session: the state machine, transport negotiation, reconnection,
 * heartbeats, resume and the outbox. Entry points call it with the transports they bundle.
 * @param known transports available by name, in default preference order
 */
export function createSession(
  url: string,
  options: ClientOptions | undefined,
  known?: Partial<Record<TransportName, TransportFactory>>,
): Client {
  const o = resolveOptions(url, options, known);
  const events = createNanoEvents<ClientEvents>();
  const subs = new Map<string, SubRecord>();
  /**
   * Publishes awaiting their ack, by message id, oldest first: the encoded `pub` frame (resent
   * as is, so the server recognises the id) and how to settle the promise.
   */
  const outbox = new Map<string, [text: string, resolve: (position: Cursor) => void, reject: (error: Error) => void]>();
  // Ids are a random prefix and a counter: unique per client, stable across resends, which is
  // what makes a publish idempotent on the server.
  // Math.random, not the injectable `random`: two clients given the same seeded sequence must
  // still not share ids, or the server would take one's publish for a repeat of the other's.
  const idPrefix = Math.random().toString(36).slice(2, 12);
  let published = 0;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const flaps: Record<string, number[]> = {};
  const demotedUntil: Record<string, number> = {};
  let state: ClientState = 'connecting';
  /** The welcomed link carrying the session. */
  let current: Link | undefined;
  /** Links of the attempt in progress (a connect, or an upward probe beside `current`), none welcomed yet. */
  let racing: Link[] = [];
  /** Transports of the attempt in progress not started yet. */
  let queue: TransportFactory[] = [];
  /** The token of the attempt in progress. */
  let token: string | undefined;
  /** Bumped whenever an attempt is abandoned, so a token that resolves late starts nothing. */
  let generation = 0;
  let attempt = 0;
  let paused = false;
  let probeDelay = Probe.Delay;
  /** When the current link was adopted, and its server's heartbeat interval (ms). */
  let adoptedAt = 0;
  let interval = 0;
  /**
   * Answers still owed per channel to the `sub` frames sent on the current link. Only the last
   * one is applied: after unsubscribe + subscribe of a channel (React's StrictMode does it on
   * every mount), the answer to the old `sub` must not reset the new subscription's cursor.
   */
  let owed: Record<string, number> = {};

  /** (Re)arms a timer, or only clears it when `fn` is missing. Once closed (perhaps by a listener mid-way), nothing is armed. */
  const later = (slot: number, ms = 0, fn?: () => void) => {
    clearTimeout(timers[slot]);
    if (fn && state !== 'closed') timers[slot] = setTimeout(fn, ms);
  };
  const report = (error: LifelineError) => events.emit('error', error);
  /** A client error. Its message is its code: the script tag has no bytes for prose (README lists what each means). */
  const problem = (code: LifelineErrorCode, cause?: unknown) => new LifelineError(code, code, cause);
  /** Guards an application listener: a throw becomes a `LISTENER_ERROR` (dropped for error listeners). */
  const wrap =
    (fn: (...args: unknown[]) => void, quiet?: boolean) =>
    (...args: unknown[]) => {
      try {
        fn(...args);
      } catch (error) {
        if (!quiet) report(problem('LISTENER_ERROR', error));
      }
    };
  /** The one place that changes state. */
  const setState = (to: ClientState, reason: string) => {
    const from = state;
    if (from === to || from === 'closed') return;
    state = to;
    events.emit('state', { from, to, reason });
  };
  /** Settles the publish `id` (unknown ids are ignored: an ack may come twice). */
  const settle = (id: string, result: Cursor | LifelineError) => {
    const entry = outbox.get(id);
    outbox.delete(id);
    // An Error rejects (slot 2), a cursor resolves (slot 1).
    entry?.[result instanceof Error ? 2 : 1](result as Cursor & Error);
  };
  const send = (...frames: ClientFrame[]) => current?.send(JSON.stringify(frames));
  /** The `sub` frame resuming `sub` after its cursor, counted as owed an answer. */
  const subText = (sub: SubRecord) => {
    sub.pending = true;
    owed[sub.channel] = (owed[sub.channel] ?? 0) + 1;
    return JSON.stringify({ type: 'sub', channel: sub.channel, since: sub.cursor });
  };
  const resubscribe = (sub: SubRecord) => current?.send(`[${subText(sub)}]`);
  /** Counts an answer for `channel`; true when it answers the last `sub` sent. */
  const answered = (channel: string) => !(owed[channel] && --owed[channel]);

  /** Usable transports in preference order; demoted ones only when nothing else is left. */
  const candidates = () => {
    const usable = o.transports.filter((f) => !(demotedUntil[f.transportName]! > Date.now()));
    // A copy: an attempt consumes its queue with shift(), which must never empty the options.
    return usable.length ? usable : [...o.transports];
  };

  /** Starts an attempt: a connect when no link is up, else a quiet probe for a better transport. */
  async function connect() {
    later(Slot.Retry);
    // Offline, no attempt is spent: the `online` event starts the next one.
    if (paused || state === 'closed' || !isOnline()) return;
    const own = ++generation;
    // Armed before the token is asked for, so a token promise that never settles fails the attempt too.
    later(Slot.Timeout, o.connectTimeout, () => attemptFailed(problem('CONNECT_TIMEOUT')));
    let fresh: string | undefined;
    try {
      fresh = typeof o.token === 'function' ? await o.token() : o.token;
    } catch (error) {
      if (own === generation) attemptFailed(problem('TOKEN_FAILED', error));
      return;
    }
    if (own !== generation) return;
    token = fresh;
    const remembered = transportMemory(o);
    const order = candidates();
    queue = current
      ? // A probe tries the transports preferred over the current one: those before it, or all
        // when it is not among them (-1 >>> 0 is past any end).
        order.slice(0, order.findIndex((f) => f.transportName === current!.name) >>> 0)
      : // The remembered transport goes first (a stable sort keeps the rest in order).
        order.sort((a, b) => +(b.transportName === remembered) - +(a.transportName === remembered));
    startNext();
  }

  /** Starts the next transport of the attempt, beside any still hanging; with none left, the attempt has failed. */
  function startNext() {
    const factory = queue.shift();
    if (factory) {
      later(Slot.Stagger, o.stagger, startNext);
      const link = createLink(factory, o, handle);
      racing.push(link);
      link.open(token);
    } else if (!racing.length) {
      attemptFailed(problem('CONNECT_FAILED'));
    }
  }

  /** Ends the attempt in progress: its links close, its timers stop, a pending token is ignored. */
  function abandon(keep?: Link) {
    generation++;
    for (const link of racing) if (link !== keep) link.close();
    racing = [];
    queue = [];
    later(Slot.Stagger);
    later(Slot.Timeout);
  }

  function attemptFailed(error: LifelineError) {
    abandon();
    if (current) {
      // A failed probe is no news for the application: keep going, probe again later.
      probeDelay = Math.min(probeDelay * 2, Probe.Max);
      later(Slot.Probe, probeDelay, connect);
    } else {
      report(error);
      retry(error);
    }
  }

  /** Schedules the next connect; the state's reason is the error's code, if any. */
  function retry(error?: LifelineError) {
    if (state === 'open') setState('reconnecting', error?.code ?? 'transport closed');
    later(Slot.Retry, reconnectDelay(attempt++, o, o.random), connect);
  }

  /** Lets go of the current link and the attempt in progress. */
  function detach() {
    abandon();
    later(Slot.Beat);
    later(Slot.Probe);
    if (current) {
      current.close();
      current = undefined;
      events.emit('transport', null);
    }
  }

  /** The current link is gone (for `error`, or closed by the transport): count a flap, schedule a reconnect. */
  function drop(error?: LifelineError) {
    const { name } = current!;
    const now = Date.now();
    if (now - adoptedAt >= o.stableAfter) attempt = 0;
    // A close the server asked for (`bye`: a restart, a slow consumer) says nothing about the
    // network path, so it never counts as a flap.
    else if (error?.code !== 'SERVER_CLOSED') {
      const recent = (flaps[name] ?? []).filter((t) => now - t < Flap.Window);
      flaps[name] = recent;
      if (recent.push(now) >= Flap.Count) demotedUntil[name] = now + Flap.Demote;
    }
    retry(error);
    detach();
    if (error) report(error);
  }

  /** The first welcome of an attempt wins: its link carries the session from now on. */
  function adopt(link: Link, welcome: WelcomeFrame) {
    const old = current;
    adoptedAt = Date.now();
    interval = welcome.heartbeat;
    abandon(link);
    old?.close();
    current = link;
    if (!old) probeDelay = Probe.Delay;
    transportMemory(o, link.name);
    // Resume every subscription after its cursor and resend every unacknowledged publish: the
    // client drops repeated messages and the server repeated publish ids, so a reconnect or a
    // switch of transports neither loses nor doubles anything.
    owed = {};
    const texts = [...subs.values()].map(subText);
    // Resumes in messages of at most 100 frames (the server's default maxFramesPerMessage).
    for (let i = 0; i < texts.length; i += 100) link.send(`[${texts.slice(i, i + 100)}]`);
    // Publishes one per message, as they were first sent: a batch of big ones could pass the
    // server's limit for a whole message, which closes the connection, and the same batch
    // would be resent after every reconnect. Alone, a publish too big is refused by its id.
    outbox.forEach((entry) => link.send(`[${entry[0]}]`));
    if (old?.name !== link.name) events.emit('transport', link.name);
    setState('open', 'welcome');
    beat();
    // Below the first choice, probe upwards, even while the better ones are demoted: a probe
    // with nothing to try fails quietly and the next waits twice as long, until a demotion ends.
    if (link.name !== o.transports[0]!.transportName) later(Slot.Probe, probeDelay, connect);
  }

  /**
   * Checks the heartbeat deadline (a timestamp, so a timer throttled in a hidden tab cannot
   * fool it) and, on WebSocket, pings when nothing was sent for an interval.
   */
  function beat() {
    const link = current;
    if (!link || !interval) return;
    const now = Date.now();
    // Dead only strictly after heartbeat + grace: the timer aims one ms past it.
    const deadline = link.receivedAt + interval + Math.max(2000, interval / 2) + 1;
    if (now >= deadline) return drop(problem('HEARTBEAT_TIMEOUT'));
    const ws = link.name === 'websocket';
    if (ws && now >= link.sentAt + interval) send({ type: 'ping' });
    later(Slot.Beat, Math.min(deadline, ws ? link.sentAt + interval : deadline) - now, beat);
  }

  /** Hears every link: racing ones until their welcome, then the current one. */
  function handle(link: Link, frame?: ServerFrame, error?: LifelineError) {
    if (link !== current) {
      // A racing link's first frame is always its welcome (see createLink): it won.
      if (frame) return adopt(link, frame as WelcomeFrame);
      // Failed before its welcome: the next transport starts at once.
      if (error && !current) report(error);
      racing = racing.filter((l) => l !== link);
      return startNext();
    }
    if (!frame) return drop(error);
    const sub = subs.get((frame as { channel?: string }).channel!);
    switch (frame.type) {
      case 'ping':
        if (link.name === 'websocket') send({ type: 'pong' });
        return;
      case 'bye':
        return drop(new LifelineError('SERVER_CLOSED', `${frame.code} ${frame.reason}`));
      case 'ack':
        return settle(frame.id, { epoch: frame.epoch, seq: frame.seq });
      case 'error': {
        const error = new LifelineError(frame.code, frame.channel ? `${frame.message}: ${frame.channel}` : frame.message);
        if (frame.id) return settle(frame.id, error);
        // A refused `sub` (the only other errors naming a channel) is not pending any more.
        if (frame.channel && answered(frame.channel) && sub) sub.pending = false;
        return report(error);
      }
      case 'subscribed':
      case 'gap':
        // An answer to an earlier `sub` of the channel: its replay may still deliver, in order.
        if (answered(frame.channel) && sub) applyChannelFrame(sub, frame, resubscribe);
        return;
      case 'msg':
        if (sub) applyChannelFrame(sub, frame, resubscribe);
    }
  }

  /** Leaves the connection without giving up the session (pagehide), or for good (close). */
  function pause(to: ClientState, reason: string) {
    if (state === 'open' || to === 'closed') setState(to, reason);
    detach();
    later(Slot.Retry);
  }

  const unwatch = watchPage({
    online: () => !current && !racing.length && connect(),
    pagehide: () => {
      paused = true;
      pause('reconnecting', 'pagehide');
    },
    pageshow: () => {
      if (paused) {
        paused = false;
        void connect();
      }
    },
    visibilitychange: () => isVisible() && beat(),
  });

  void connect();

  return {
    get state() {
      return state;
    },
    get transport() {
      return current?.name ?? null;
    },
    on: (event, listener) => events.on(event, wrap(listener as (...args: unknown[]) => void, event === 'error')),
    subscribe(channel, { since } = {}) {
      checkChannel(channel);
      if (since && !isCursor(since)) fail('since', since);
      let sub = subs.get(channel);
      if (!sub) {
        const emitter = createNanoEvents<SubscriptionEvents>();
        sub = {
          channel,
          // A copy, so the caller's object is never changed behind its back.
          cursor: since && { ...since },
          events: emitter,
          pending: false,
          on: (event, listener) => emitter.on(event, wrap(listener as (...args: unknown[]) => void)),
          unsubscribe() {
            emitter.events = {};
            // A later subscribe to the channel made a new record: leave that one alone.
            if (subs.get(channel) === sub && subs.delete(channel)) send({ type: 'unsub', channel });
          },
        };
        subs.set(channel, sub);
        resubscribe(sub);
      }
      return sub;
    },
    publish: (channel, data) =>
      new Promise((resolve, reject) => {
        // Throwing inside the executor rejects the promise: publish never throws synchronously.
        if (state === 'closed') throw problem('CLOSED');
        if (outbox.size >= o.outboxSize) throw problem('OUTBOX_FULL');
        checkChannel(channel);
        if (data === undefined) fail('data', data);
        const id = idPrefix + (++published).toString(36);
        const text = JSON.stringify({ type: 'pub', id, channel, data });
        // Refused here rather than sent: over the server's limit for a whole message, it would
        // close the connection each time it is resent.
        if (text.length > o.maxMessageSize) throw problem('FRAME_TOO_LARGE');
        outbox.set(id, [text, resolve, reject]);
        current?.send(`[${text}]`);
      }),
    close() {
      if (state === 'closed') return;
      pause('closed', 'close');
      unwatch();
      outbox.forEach((_, id) => settle(id, problem('CLOSED')));
    },
  };
}
