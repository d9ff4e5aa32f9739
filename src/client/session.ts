import { createNanoEvents } from 'nanoevents';
import type { ServerFrame, WelcomeFrame } from '../protocol/index.js';
import type { TransportFactory, TransportName } from '../transports/transport.js';
import { reconnectDelay } from './backoff.js';
import { describeValue } from './dev.js';
import { type ConnectAttempt, LifelineError, problem } from './errors.js';
import { explainConnectFailure } from './explain.js';
import { createLink, type Link } from './link.js';
import { checkChannel, type ClientOptions, resolveOptions } from './options.js';
import { encodePublish } from './publish-data.js';
import { createOutbox } from './outbox.js';
import { isOnline, isVisible, watchPage } from './page-life.js';
import { type ChannelFrame, createSubscriptions } from './subscriptions.js';
import type { Client, ClientEvents, ClientState } from './types.js';

/** Timer slots. */
const enum Slot {
  Retry,
  Stagger,
  Timeout,
  Beat,
  Probe,
}

/**
 * Creates a client session: the one owner of connection state. It runs the state machine,
 * transport negotiation, reconnection and heartbeats, and hands frames to the subscriptions
 * and the outbox, which own what is per channel and per publish.
 * @param known transports available by name, in default preference order
 */
export function createSession(
  url: string,
  options: ClientOptions | undefined,
  known?: Partial<Record<TransportName, TransportFactory>>,
): Client {
  const o = resolveOptions(url, options, known);
  const events = createNanoEvents<ClientEvents>();
  const timers: ReturnType<typeof setTimeout>[] = [];
  // The policy for choosing among transports comes with the fallback transports (SSE, long
  // polling); without one, the transports are tried in the order given and never probed.
  const negotiation = o.transports.find((factory) => factory.negotiation)?.negotiation?.(o);
  let state: ClientState = 'connecting';
  /** The welcomed link carrying the session. */
  let current: Link | undefined;
  /** Links of the attempt in progress (a connect, or an upward probe beside `current`), none welcomed yet. */
  let racing: Link[] = [];
  /** Transports of the attempt in progress not started yet. */
  let queue: TransportFactory[] = [];
  /** What each transport of the attempt in progress saw when it failed. */
  let failures: ConnectAttempt[] = [];
  /** The token of the attempt in progress. */
  let token: string | undefined;
  /** Bumped whenever an attempt is abandoned, so a token that resolves late starts nothing. */
  let generation = 0;
  let attempt = 0;
  let paused = false;
  /** When the current link was adopted, and its server's heartbeat interval (ms). */
  let adoptedAt = 0;
  let interval = 0;

  /** (Re)arms a timer, or only clears it when `fn` is missing. Once closed (perhaps by a listener mid-way), nothing is armed. */
  const later = (slot: Slot, ms = 0, fn?: () => void) => {
    clearTimeout(timers[slot]);
    if (fn && state !== 'closed') timers[slot] = setTimeout(fn, ms);
  };
  const report = (error: LifelineError) => events.emit('error', error);
  /** Guards an application listener: a throw becomes a `LISTENER_ERROR` (dropped for error listeners). */
  const guard = <F extends (...args: never[]) => void>(listener: F, quiet?: boolean) =>
    ((...args) => {
      try {
        listener(...args);
      } catch (error) {
        if (!quiet) report(problem('LISTENER_ERROR', __DEV__ && 'a listener threw; the error is the cause', error));
      }
    }) as F;
  const sendText = (text: string) => current?.send(text);
  const subscriptions = createSubscriptions(sendText, guard);
  const outbox = createOutbox();

  /** The one place that changes state. */
  const setState = (to: ClientState, reason: string) => {
    const from = state;
    if (from === to || from === 'closed') return;
    state = to;
    events.emit('state', { from, to, reason });
  };

  /** A connect attempt's failure, carrying what each transport saw. */
  const attemptProblem = (code: 'CONNECT_FAILED' | 'CONNECT_TIMEOUT') => {
    const error = problem(code, __DEV__ && explainConnectFailure(code, o, failures));
    error.attempts = failures;
    return error;
  };

  /** Starts an attempt: a connect when no link is up, else a quiet probe for a better transport. */
  async function connect() {
    later(Slot.Retry);
    // Offline, no attempt is spent: the `online` event starts the next one.
    if (paused || state === 'closed' || !isOnline()) return;
    const own = ++generation;
    failures = [];
    // Armed before the token is asked for, so a token promise that never settles fails the attempt too.
    later(Slot.Timeout, o.connectTimeout, () => attemptFailed(attemptProblem('CONNECT_TIMEOUT')));
    let fresh: unknown;
    try {
      fresh = typeof o.token === 'function' ? await o.token() : o.token;
    } catch (error) {
      if (own === generation)
        attemptFailed(problem('TOKEN_FAILED', __DEV__ && 'the token function threw or rejected; the error is the cause', error));
      return;
    }
    if (own !== generation) return;
    if (fresh !== undefined && typeof fresh !== 'string') {
      return attemptFailed(
        problem('TOKEN_FAILED', __DEV__ && `the token function must return a string or undefined, not ${describeValue(fresh)}`),
      );
    }
    token = fresh;
    // Only a negotiation policy probes, so `current` implies one. A copy of the options' list:
    // the attempt consumes its queue.
    queue = current ? negotiation!.probeOrder(current.name) : (negotiation?.connectOrder() ?? [...o.transports]);
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
      attemptFailed(attemptProblem('CONNECT_FAILED'));
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
      later(Slot.Probe, negotiation!.probeFailed(), connect);
    } else {
      report(error);
      retry(error);
    }
  }

  /**
   * Schedules the next connect; the state's reason is the error's code, if any. `spread` (ms),
   * from a restart's `bye`, replaces the first delay with full jitter over the whole window,
   * so that a node's clients don't all come back in the same second.
   */
  function retry(error?: LifelineError, spread?: number) {
    if (state === 'open') setState('reconnecting', error?.code ?? 'transport closed');
    later(Slot.Retry, spread ? o.random() * spread : reconnectDelay(attempt++, o, o.random), connect);
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
  function drop(error?: LifelineError, spread?: number) {
    const { name } = current!;
    if (Date.now() - adoptedAt >= o.stableAfter) attempt = 0;
    // A close the server asked for (`bye`: a restart, a slow consumer) says nothing about the
    // network path, so it never counts as a flap.
    else if (error?.code !== 'SERVER_CLOSED') negotiation?.flapped(name);
    retry(error, spread);
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
    // Resume every subscription after its cursor and resend every unacknowledged publish: the
    // client drops repeated messages and the server repeated publish ids, so a reconnect or a
    // switch of transports neither loses nor doubles anything. One frame per wire message, as
    // everywhere: the HTTP transports batch them within the server's limits, and a publish over
    // the server's limit for one frame is refused alone, by its id.
    for (const frame of [...subscriptions.resumeFrames(), ...outbox.frames()]) link.send(`[${frame}]`);
    if (old?.name !== link.name) events.emit('transport', link.name);
    setState('open', 'welcome');
    beat();
    const probeAfter = negotiation?.adopted(link.name, !!old);
    if (probeAfter) later(Slot.Probe, probeAfter, connect);
  }

  /**
   * Checks the heartbeat deadline (a timestamp, so a timer throttled in a hidden tab cannot
   * fool it) and, on WebSocket, pings when nothing was sent for an interval.
   */
  function beat() {
    const link = current;
    if (!link || !interval) return;
    const now = Date.now();
    // Dead only strictly after heartbeat + grace: the timer aims one ms past it. The grace is
    // half the interval (12.5 s at the default 25 s, room for a slow mobile network), and at
    // least 500 ms, so a test's 500 ms heartbeat finds a zombie in about a second.
    const deadline = link.receivedAt + interval + Math.max(interval / 2, 500) + 1;
    if (now >= deadline) return drop(problem('HEARTBEAT_TIMEOUT', __DEV__ && `nothing arrived for ${deadline - link.receivedAt - 1} ms`));
    const ws = link.name === 'websocket';
    if (ws && now >= link.sentAt + interval) sendText('[{"type":"ping"}]');
    later(Slot.Beat, Math.min(deadline, ws ? link.sentAt + interval : deadline) - now, beat);
  }

  /** Hears every link: racing ones until their welcome, then the current one. */
  function handle(link: Link, frame?: ServerFrame, error?: LifelineError) {
    if (link !== current) {
      // A racing link's first frame is always its welcome (see createLink): it won.
      if (frame) return adopt(link, frame as WelcomeFrame);
      // Failed before its welcome: the next transport starts at once.
      failures.push({ transport: link.name, reason: link.endReason! });
      if (error && !current) report(error);
      racing = racing.filter((l) => l !== link);
      return startNext();
    }
    if (!frame) return drop(error);
    switch (frame.type) {
      case 'ping':
        if (link.name === 'websocket') sendText('[{"type":"pong"}]');
        return;
      case 'bye':
        return drop(new LifelineError('SERVER_CLOSED', `${frame.code} ${frame.reason}`), frame.spread);
      case 'ack':
        return outbox.settle(frame.id, { epoch: frame.epoch, seq: frame.seq });
      case 'error': {
        const failure = new LifelineError(frame.code, frame.channel ? `${frame.message}: ${frame.channel}` : frame.message);
        if (frame.id) return outbox.settle(frame.id, failure);
        // A refused `sub` (the only other errors naming a channel) is not pending any more.
        if (frame.channel) subscriptions.handle(frame as ChannelFrame);
        return report(failure);
      }
      case 'subscribed':
      case 'gap':
      case 'msg':
        return subscriptions.handle(frame);
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
    on: (event, listener) => events.on(event, guard(listener, event === 'error')),
    subscribe: (channel, { since } = {}) => subscriptions.subscribe(channel, since),
    publish: (channel, data) =>
      new Promise((resolve, reject) => {
        // Throwing inside the executor rejects the promise: publish never throws synchronously.
        if (state === 'closed') throw problem('CLOSED', __DEV__ && 'publish after close(): create a new client');
        checkChannel(channel);
        const id = outbox.nextId();
        const frame = encodePublish(id, channel, data);
        // Refused here rather than sent: over the server's limit for a whole message, it would
        // close the connection each time it is resent.
        if (frame.length > o.maxMessageSize) {
          throw problem(
            'FRAME_TOO_LARGE',
            __DEV__ && `the publish is ${frame.length} characters, over maxMessageSize (${o.maxMessageSize})`,
          );
        }
        if (outbox.size >= o.outboxSize || outbox.chars + frame.length > o.outboxChars) {
          throw problem(
            'OUTBOX_FULL',
            __DEV__ &&
              (outbox.size >= o.outboxSize
                ? `${o.outboxSize} publishes already await their ack (the outboxSize option)`
                : `the publishes awaiting their ack would hold more than ${o.outboxChars} characters with this one of ${frame.length} (the outboxChars option)`),
          );
        }
        outbox.add(id, frame, resolve, reject);
        current?.send(`[${frame}]`);
      }),
    close() {
      if (state === 'closed') return;
      pause('closed', 'close');
      unwatch();
      outbox.rejectAll(problem('CLOSED', __DEV__ && 'the client was closed before the server acknowledged this publish'));
    },
  };
}
