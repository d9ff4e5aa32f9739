import { createNanoEvents } from 'nanoevents';
import { encodeWire, isCursor, type ClientFrame, type ServerFrame } from '../protocol/index.js';
import type { TransportFactory, TransportName } from '../transports/transport.js';
import { reconnectDelay } from './backoff.js';
import { LifelineError } from './errors.js';
import { createLink, type Link, type LinkContext } from './link.js';
import { checkChannel, resolveOptions, type ClientOptions } from './options.js';
import { createOutbox } from './outbox.js';
import { isOnline, isVisible, watchPage } from './page-life.js';
import { applyChannelFrame, createSub, subFrame, type SubRecord } from './resume.js';
import { recallTransport, rememberTransport } from './transport-memory.js';
import type { Client, ClientEvents, ClientState } from './types.js';

// A transport whose connections die within `stableAfter` of their welcome FLAP_COUNT times in
// FLAP_WINDOW ms is skipped for DEMOTE_MS: some proxies accept a protocol and then kill it.
const FLAP_COUNT = 3;
const FLAP_WINDOW = 60_000;
const DEMOTE_MS = 5 * 60_000;
// On a fallback, a better transport is tried quietly after PROBE_DELAY ms of service; each
// failed probe doubles the wait, up to PROBE_MAX.
const PROBE_DELAY = 30_000;
const PROBE_MAX = 10 * 60_000;

type TimerName = 'retry' | 'stagger' | 'timeout' | 'beat' | 'probe';

/**
 * Creates a client session: the state machine, transport negotiation, reconnection,
 * heartbeats, resume and the outbox. Entry points call it with the transports they bundle.
 * @param known transports available by name, in default preference order
 */
export function createSession(url: string, options: ClientOptions | undefined, known?: Partial<Record<TransportName, TransportFactory>>): Client {
  const o = resolveOptions(url, options, known);
  const events = createNanoEvents<ClientEvents>();
  const subs = new Map<string, SubRecord>();
  const outbox = createOutbox(o.outboxSize, o.random);
  const timers: Partial<Record<TimerName, ReturnType<typeof setTimeout>>> = {};
  const flaps: Record<string, number[]> = {};
  const demotedUntil: Record<string, number> = {};
  let state: ClientState = 'connecting';
  /** The welcomed link carrying the session. */
  let current: Link | undefined;
  /** Links of the attempt in progress (a connect, or an upward probe beside `current`), none welcomed yet. */
  let racing: Link[] = [];
  /** Transports of the attempt in progress not started yet. */
  let queue: TransportFactory[] = [];
  let context: LinkContext;
  /** Bumped whenever an attempt is abandoned, so a token that resolves late starts nothing. */
  let generation = 0;
  let attempt = 0;
  let paused = false;
  let probeDelay = PROBE_DELAY;

  /** (Re)arms a timer, or only clears it when `fn` is missing. */
  const later = (name: TimerName, ms = 0, fn?: () => void) => {
    clearTimeout(timers[name]);
    if (fn) timers[name] = setTimeout(fn, ms);
  };
  const report = (error: LifelineError) => events.emit('error', error);
  /** Guards an application listener: a throw becomes a `LISTENER_ERROR` (dropped for error listeners). */
  const wrap = <A extends unknown[]>(fn: (...args: A) => void, quiet?: boolean) => (...args: A) => {
    try {
      fn(...args);
    } catch (error) {
      if (!quiet) report(new LifelineError('LISTENER_ERROR', 'A listener threw', error));
    }
  };
  /** The one place that changes state. */
  const setState = (to: ClientState, reason: string) => {
    const from = state;
    if (from !== to && from !== 'closed') {
      state = to;
      events.emit('state', { from, to, reason });
    }
  };
  const send = (frames: ClientFrame[]) => current?.send(encodeWire(frames));
  const resend = (sub: SubRecord) => send([subFrame(sub)]);

  /** Usable transports in preference order; demoted ones are skipped unless nothing else is left. */
  const candidates = () => {
    const usable = o.transports.filter((f) => !(demotedUntil[f.transportName]! > Date.now()));
    return usable.length ? usable : o.transports;
  };
  /** Transports preferred over the current one: what an upward probe tries. */
  const better = () => {
    const order = candidates();
    const rank = order.findIndex((f) => f.transportName === current?.name);
    return order.slice(0, rank < 0 ? undefined : rank);
  };

  /** Starts an attempt: a connect when no link is up, else a quiet probe for a better transport. */
  async function connect() {
    later('retry');
    // Offline, no attempt is spent: the `online` event starts the next one.
    if (paused || state === 'closed' || !isOnline()) return;
    const own = ++generation;
    let token: string | undefined;
    try {
      token = typeof o.token === 'function' ? await o.token() : o.token;
    } catch (error) {
      if (own === generation) attemptFailed(new LifelineError('TOKEN_FAILED', 'The token function failed', error));
      return;
    }
    if (own !== generation) return;
    const remembered = o.rememberTransport && recallTransport(o.url);
    const order = candidates();
    queue = current ? better() : [...order.filter((f) => f.transportName === remembered), ...order.filter((f) => f.transportName !== remembered)];
    context = { url: o.url, token, WebSocket: o.WebSocket, EventSource: o.EventSource, fetch: o.fetch };
    later('timeout', o.connectTimeout, () => attemptFailed(new LifelineError('CONNECT_TIMEOUT', `No welcome from ${o.url} within ${o.connectTimeout} ms`)));
    startNext();
  }

  /** Starts the next transport of the attempt, beside any still hanging; with none left, the attempt has failed. */
  function startNext() {
    const factory = queue.shift();
    if (factory) {
      later('stagger', o.stagger, startNext);
      const link = createLink(factory, o.maxMessageSize, handle);
      racing.push(link);
      link.open(context);
    } else if (!racing.length) {
      attemptFailed(new LifelineError('CONNECT_FAILED', `Every transport to ${o.url} closed before the welcome`));
    }
  }

  /** Ends the attempt in progress: its links close, its timers stop, a pending token is ignored. */
  function abandon() {
    generation++;
    for (const link of racing) link.close();
    racing = [];
    queue = [];
    later('stagger');
    later('timeout');
  }

  function attemptFailed(error: LifelineError) {
    abandon();
    if (current) {
      // A failed probe is no news for the application: keep going, probe again later.
      probeDelay = Math.min(probeDelay * 2, PROBE_MAX);
      later('probe', probeDelay, connect);
    } else {
      report(error);
      retry(error.code);
    }
  }

  function retry(reason: string) {
    if (state === 'open') setState('reconnecting', reason);
    later('retry', reconnectDelay(attempt++, o, o.random), connect);
  }

  /** Hears every link: racing ones until their welcome, then the current one. */
  function handle(link: Link, frame?: ServerFrame, error?: LifelineError) {
    if (link === current) {
      if (frame) onFrame(link, frame);
      else drop(error?.code ?? 'transport closed', error);
    } else if (frame) {
      // A racing link's first frame is always its welcome (see createLink): it won.
      adopt(link);
    } else {
      // Failed before its welcome: the next transport starts at once.
      if (error && !current) report(error);
      racing = racing.filter((l) => l !== link);
      startNext();
    }
  }

  function adopt(link: Link) {
    const old = current;
    racing = racing.filter((l) => l !== link);
    abandon();
    old?.close();
    current = link;
    if (!old) probeDelay = PROBE_DELAY;
    if (o.rememberTransport) rememberTransport(o.url, link.name);
    // Resume every subscription after its cursor and resend every unacknowledged publish: the
    // client drops repeated messages and the server repeated publish ids, so a reconnect or a
    // switch of transports neither loses nor doubles anything.
    const texts = [...subs.values()].map((sub) => ((sub.pending = true), JSON.stringify(subFrame(sub)))).concat(outbox.texts());
    if (texts.length) link.send(`[${texts.join()}]`);
    if (old?.name !== link.name) events.emit('transport', link.name);
    setState('open', 'welcome');
    beat();
    if (better().length) later('probe', probeDelay, connect);
  }

  /** The current link is gone: count a flap, forget the link, schedule a reconnect. */
  function drop(reason: string, error?: LifelineError) {
    const link = current!;
    const now = Date.now();
    current = undefined;
    link.close();
    abandon();
    later('beat');
    later('probe');
    if (now - link.openedAt >= o.stableAfter) attempt = 0;
    else {
      const recent = (flaps[link.name] = (flaps[link.name] ?? []).filter((t) => now - t < FLAP_WINDOW));
      if (recent.push(now) >= FLAP_COUNT) demotedUntil[link.name] = now + DEMOTE_MS;
    }
    retry(reason);
    events.emit('transport', null);
    if (error) report(error);
  }

  /**
   * Checks the heartbeat deadline (a timestamp, so a timer throttled in a hidden tab cannot
   * fool it) and, on WebSocket, pings when nothing was sent for an interval.
   */
  function beat() {
    const link = current;
    const interval = link?.welcome!.heartbeat;
    if (!link || !interval) return;
    const now = Date.now();
    // Dead only strictly after the deadline: the timer aims one ms past it.
    const deadline = link.receivedAt + interval + Math.max(2000, interval / 2) + 1;
    if (now >= deadline) return drop('HEARTBEAT_TIMEOUT', new LifelineError('HEARTBEAT_TIMEOUT', `Nothing from ${o.url} for ${now - link.receivedAt} ms`));
    const ws = link.name === 'websocket';
    if (ws && now >= link.sentAt + interval) send([{ type: 'ping' }]);
    later('beat', Math.min(deadline, ws ? link.sentAt + interval : deadline) - now, beat);
  }

  function onFrame(link: Link, frame: ServerFrame) {
    switch (frame.type) {
      case 'ping':
        if (link.name === 'websocket') send([{ type: 'pong' }]);
        return;
      case 'bye':
        return drop('SERVER_CLOSED', new LifelineError('SERVER_CLOSED', `${o.url} ended the connection: ${frame.code} ${frame.reason}`));
      case 'ack':
        return outbox.settle(frame.id, { epoch: frame.epoch, seq: frame.seq });
      case 'error': {
        const error = new LifelineError(frame.code, frame.channel ? `${frame.message} (channel ${frame.channel})` : frame.message);
        if (frame.id) return outbox.settle(frame.id, error);
        const sub = frame.channel && subs.get(frame.channel);
        if (sub) sub.pending = false;
        return report(error);
      }
      case 'subscribed':
      case 'gap':
      case 'msg': {
        const sub = subs.get(frame.channel);
        if (sub) applyChannelFrame(sub, frame, resend);
      }
    }
  }

  /** Leaves the connection without giving up the session (pagehide, close). */
  function pause(to: ClientState, reason: string) {
    if (state === 'open' || to === 'closed') setState(to, reason);
    abandon();
    for (const name in timers) later(name as TimerName);
    if (current) {
      current.close();
      current = undefined;
      events.emit('transport', null);
    }
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
      if (since !== undefined && !isCursor(since)) throw new TypeError('lifeline: since must be a cursor { epoch, seq }');
      let sub = subs.get(channel);
      if (!sub) {
        sub = createSub(channel, since, wrap, (ended) => {
          if (subs.get(channel) === ended) {
            subs.delete(channel);
            send([{ type: 'unsub', channel }]);
          }
        });
        subs.set(channel, sub);
        if (current) {
          sub.pending = true;
          resend(sub);
        }
      }
      return sub;
    },
    publish: (channel, data) =>
      state === 'closed'
        ? Promise.reject(new LifelineError('CLOSED', 'Client is closed'))
        : outbox.add(channel, data, (text) => current?.send(`[${text}]`)),
    close() {
      if (state === 'closed') return;
      pause('closed', 'close');
      unwatch();
      outbox.clear(new LifelineError('CLOSED', 'Client closed before the publish was acknowledged'));
    },
  };
}
