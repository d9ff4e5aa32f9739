import type { TransportFactory, TransportName } from '../transports/transport.js';
import { transportMemory } from './transport-memory.js';

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

/**
 * The choices that only matter when there is a fallback: which transport goes first (the one
 * remembered for this URL), which are skipped for flapping, and when to probe for a better one.
 * The session works without it (one transport, or the given order); the SSE and long-polling
 * factories bring it, so a WebSocket-only build doesn't carry it.
 */
export interface Negotiation {
  /** The transports of a connect attempt, in the order to start them. */
  connectOrder(): TransportFactory[];
  /** The transports of a probe from `current`: those preferred over it. */
  probeOrder(current: TransportName): TransportFactory[];
  /**
   * A link on `name` was welcomed (`probed`: it replaced a working one). Returns when to probe
   * for a better transport (ms), or undefined on the first choice.
   */
  adopted(name: TransportName, probed: boolean): number | undefined;
  /** A probe found nothing better: when to probe again (ms), twice as long as last time. */
  probeFailed(): number;
  /** A link on `name` died early (before `stableAfter`), for a reason that may be the network path. */
  flapped(name: TransportName): void;
}

/** Makes the negotiation policy for a client of `url` preferring `transports` in that order. */
export type NegotiationFactory = (options: { url: string; rememberTransport: boolean; transports: TransportFactory[] }) => Negotiation;

/** The policy: remembered transport first, flap demotion, upward probing with doubling waits. */
export const createNegotiation: NegotiationFactory = (options) => {
  const { transports } = options;
  const flaps: Partial<Record<TransportName, number[]>> = {};
  const demotedUntil: Partial<Record<TransportName, number>> = {};
  let probeDelay: number = Probe.Delay;

  /** Usable transports in preference order; demoted ones only when nothing else is left. */
  const candidates = () => {
    const usable = transports.filter((factory) => !(demotedUntil[factory.transportName]! > Date.now()));
    // A copy: an attempt consumes its queue, which must never empty the options.
    return usable.length ? usable : [...transports];
  };

  return {
    connectOrder() {
      const remembered = transportMemory(options);
      // The remembered transport goes first (a stable sort keeps the rest in order).
      return candidates().sort((a, b) => +(b.transportName === remembered) - +(a.transportName === remembered));
    },
    probeOrder(current) {
      const order = candidates();
      const at = order.findIndex((factory) => factory.transportName === current);
      // When the current one is not among them (demoted), all of them are better.
      return at < 0 ? order : order.slice(0, at);
    },
    adopted(name, probed) {
      transportMemory(options, name);
      if (!probed) probeDelay = Probe.Delay;
      // Below the first choice, probe upwards, even while the better ones are demoted: a probe
      // with nothing to try fails quietly and the next waits twice as long, until a demotion ends.
      return name === transports[0]!.transportName ? undefined : probeDelay;
    },
    probeFailed() {
      probeDelay = Math.min(probeDelay * 2, Probe.Max);
      return probeDelay;
    },
    flapped(name) {
      const now = Date.now();
      const recent = (flaps[name] ?? []).filter((t) => now - t < Flap.Window);
      recent.push(now);
      flaps[name] = recent;
      if (recent.length >= Flap.Count) demotedUntil[name] = now + Flap.Demote;
    },
  };
};
