import { nearMiss } from './origin.js';

/** How often one refused origin is logged at most. */
const EVERY_MS = 60_000;
/** Origins remembered at once: Origin is the client's to choose, so the memory is bounded. */
const REMEMBERED = 1000;

/**
 * Logs a refused origin once per origin per minute, with the option that would allow it and,
 * when an allowed origin differs only by `localhost` ↔ `127.0.0.1` or by port, that near miss.
 */
export class RefusedOriginLog {
  /** When each origin was last logged (ms timestamp), oldest first. */
  private readonly logged = new Map<string, number>();

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
    const near = nearMiss(origin, this.allowOrigins);
    const shown = JSON.stringify(origin);
    this.log(
      `lifeline: refused origin ${shown} on ${where}: not the server's own origin nor in allowOrigins. ` +
        `To allow it, start with --allow-origin ${origin} or add ${shown} to allowOrigins.${near ? ` Note: ${near}.` : ''}`,
    );
  }
}
