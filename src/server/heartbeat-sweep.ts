// One interval timer for every connection with the same heartbeat, instead of three or four
// timers per connection: an idle WebSocket held four Timeout objects and their closures (most
// of its memory beside the socket), and a deadline checked a few times per heartbeat is as
// good as one scheduled to the millisecond for pings and timeouts counted in tens of seconds.

/** What a sweep calls: a connection checks its own deadlines against `now`. */
export interface SweepMember {
  sweep(now: number): void;
}

interface Sweep {
  readonly members: Set<SweepMember>;
  readonly timer: NodeJS.Timeout;
}

const sweeps = new Map<number, Sweep>();

/**
 * How often the connections with this heartbeat are looked at: an eighth of it (so a deadline
 * is met within 12.5 % late), at least every second and at most every 10 ms.
 */
export const sweepInterval = (heartbeat: number): number => Math.max(10, Math.min(1000, heartbeat / 8));

/**
 * Adds `member` to the sweep of `heartbeat`, starting it with its first member; the returned
 * function takes it out again and stops the sweep with its last, so no timer outlives the
 * connections (a process with none has nothing scheduled).
 */
export function joinSweep(heartbeat: number, member: SweepMember): () => void {
  let sweep = sweeps.get(heartbeat);
  if (!sweep) {
    const members = new Set<SweepMember>();
    // Deleting the member being visited (a connection that closes) is safe in a Set's loop.
    const timer = setInterval(() => {
      const now = Date.now();
      for (const each of members) each.sweep(now);
    }, sweepInterval(heartbeat));
    // The connections' sockets keep the process alive, not their heartbeat.
    timer.unref();
    sweep = { members, timer };
    sweeps.set(heartbeat, sweep);
  }
  const joined = sweep;
  joined.members.add(member);
  return () => {
    if (!joined.members.delete(member) || joined.members.size > 0) return;
    clearInterval(joined.timer);
    if (sweeps.get(heartbeat) === joined) sweeps.delete(heartbeat);
  };
}
