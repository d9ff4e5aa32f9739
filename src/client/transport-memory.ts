// The transport that worked last is remembered per server URL for the tab's session (as
// phoenix.js does), so a page behind a proxy that breaks WebSockets starts on its fallback.

const key = (url: string) => `lifeline:${url}`;
/** How long a remembered transport stays remembered. */
const REMEMBER_MS = 30 * 60_000;

/** The transport that last worked for `url` in this tab, if remembered and fresh. Storage may be missing or throw. */
export function recallTransport(url: string): string | undefined {
  try {
    const [name, until] = sessionStorage.getItem(key(url))!.split(' ');
    return Number(until) > Date.now() ? name : undefined;
  } catch {
    return undefined;
  }
}

/** Remembers the transport that worked for `url` (quietly does nothing without storage). */
export function rememberTransport(url: string, name: string): void {
  try {
    sessionStorage.setItem(key(url), `${name} ${Date.now() + REMEMBER_MS}`);
  } catch {
    // Storage disabled, full or absent (Node, some workers, privacy modes): memory is optional.
  }
}
