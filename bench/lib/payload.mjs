const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Message `i` of a run: JSON `{"i":…,"t":"…"}` whose encoding is exactly `size` bytes (≥ 20).
 * The text is pseudo-random letters and digits (the same for the same `i`), so compression
 * (socket.io's polling gzips answers over 1 KiB) cannot shrink it to nothing.
 */
export function payload(i, size = 100) {
  const head = `{"i":${i},"t":"`;
  let state = Math.imul(i + 1, 2654435761) | 1;
  let t = '';
  for (let k = Math.max(0, size - head.length - 2); k > 0; k--) {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    t += alphabet[(state >>> 0) % alphabet.length];
  }
  return { i, t };
}

/** A blank same-origin page for Chromium to open; the benchmark injects the client into it. */
export const blankPage = '<!doctype html><html><head><meta charset="utf-8"><title>bench</title></head><body></body></html>';

/** Answers `GET /` with the blank page; true when it did. */
export function serveBlank(req, res) {
  if (req.method !== 'GET' || (req.url !== '/' && !req.url.startsWith('/?'))) return false;
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(blankPage);
  return true;
}

/** The query of a request as an object of strings. */
export const query = (req) => Object.fromEntries(new URL(req.url, 'http://x').searchParams);

/** Calls `send({ s, t })` n times, one every `interval` ms (s counts from 0; t is padding). */
export function paced(n, interval, send) {
  let s = 0;
  const timer = setInterval(() => {
    send({ s, t: 'y'.repeat(80) });
    if (++s === n) clearInterval(timer);
  }, interval);
}
