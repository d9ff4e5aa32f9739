import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** The host name of a `Host` header, lower-cased, without port, brackets or trailing dot. */
export function hostName(header: string): string {
  const host = header.trim().toLowerCase();
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/**
 * Names no DNS rebinding can produce: an IP literal is what the browser was given, and
 * `localhost` (with its subdomains) never resolves through DNS in a browser.
 */
const rebindingProof = (name: string): boolean => isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost');

/** Whether `name` is listed: exactly, or under an entry that starts with a dot (`.example.com`). */
const listed = (name: string, entries: readonly string[]): boolean =>
  entries.some((entry) => entry === '*' || entry === name || (entry.startsWith('.') && (name === entry.slice(1) || name.endsWith(entry))));

/**
 * Whether a request's `Host` may be served: an IP literal, `localhost`, a name `listen` was
 * given, or one in `allowedHosts`. A DNS rebinding page (`Host: attacker.example`, whose name
 * now points at this server) is refused, though its Origin matches its Host. Requests without
 * `Host` (HTTP/1.0, non-browser clients) are allowed: a browser always sends it.
 */
export function hostAllowed(req: IncomingMessage, allowedHosts: readonly string[], bound: readonly string[]): boolean {
  const header = req.headers.host;
  if (header === undefined || header === '') return true;
  const name = hostName(header);
  return rebindingProof(name) || listed(name, allowedHosts) || listed(name, bound);
}
