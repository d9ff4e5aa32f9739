import { nearMiss } from './origin.js';

/** How often one refused origin is logged at most. */
const EVERY_MS = 60_000;
/** Origins remembered at once: Origin is the client's to choose, so the memory is bounded. */
const REMEMBERED = 1000;
/** Lines per minute at most, whatever the number of origins: a flood of made-up origins is one line more. */
const LINES_PER_MINUTE = 20;

/**
 * Logs a refused origin once per origin per minute, with the option that would allow it and,
 * when an allowed origin differs only by `localhost` ↔ `127.0.0.1` or by port, that near miss.
 */
export class RefusedOriginLog {
  /** When each origin was last logged (ms timestamp), oldest first. */
  private readonly logged = new Map<string, number>();
  /** Start of the current minute of lines, and the lines written in it. */
  private windowStart = 0;
  private lines = 0;

  constructor(
    private readonly log: (message: string) => void,
    private readonly allowOrigins: readonly string[],
  ) {}

  /** Called for every refusal; logs it unless this origin was logged within the minute. */
  refused(origin: string, where: string): void {
    const now = Date.now();
    const last = this.logged.get(origin);
    if (last !== undefined && now - last < EVERY_MS) return;
    this.logged.delete(origin);
    if (this.logged.size >= REMEMBERED) {
      for (const [old, at] of this.logged) if (now - at >= EVERY_MS) this.logged.delete(old);
      // Still full: forget the oldest, so a flood of made-up origins can't silence a real one for long.
      if (this.logged.size >= REMEMBERED) this.logged.delete(this.logged.keys().next().value as string);
    }
    this.logged.set(origin, now);
    if (now - this.windowStart >= EVERY_MS) {
      this.windowStart = now;
      this.lines = 0;
    }
    if (++this.lines > LINES_PER_MINUTE) {
      if (this.lines === LINES_PER_MINUTE + 1)
        this.log(`lifeline: more than ${LINES_PER_MINUTE} origins refused within a minute; the others are not logged until it is over.`);
      return;
    }
    const near = nearMiss(origin, this.allowOrigins);
    const shown = JSON.stringify(origin);
    this.log(
      `lifeline: refused origin ${shown} on ${where}: not the server's own origin nor in allowOrigins. ` +
        `To allow it, start with --allow-origin ${origin} or add ${shown} to allowOrigins.${near ? ` Note: ${near}.` : ''}`,
    );
  }
}
