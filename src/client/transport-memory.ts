// The transport that worked last is remembered per server URL for the tab's session (as
// phoenix.js does), so a page behind a proxy that breaks WebSockets starts on its fallback.

/** How long a remembered transport stays remembered. */
const REMEMBER_MS = 30 * 60_000;

/**
 * With `name`, remembers that transport as the one that worked for `url`; without, returns the
 * one remembered for `url` if it is still fresh. Does nothing unless `rememberTransport` is on;
 * storage may be missing or throw (Node, some workers, privacy modes): memory is optional.
 */
export function transportMemory(
  { url, rememberTransport }: { url: string; rememberTransport: boolean },
  name?: string,
): string | undefined {
  const key = `lifeline:${url}`;
  try {
    if (!rememberTransport) return;
    if (name) sessionStorage.setItem(key, `${name} ${Date.now() + REMEMBER_MS}`);
    else {
      const [remembered, until] = sessionStorage.getItem(key)!.split(' ');
      if (+until! > Date.now()) return remembered;
    }
  } catch {
    // No storage here: start with the preferred transport.
  }
}
