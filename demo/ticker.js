// The demo's live ticker: a backend publishing a random-walk price to the `ticker` channel once
// a second through the server's HTTP publish API (`POST {path}/publish` with the API key), the
// way a real backend would. scripts/start.js calls startTicker; it also runs on its own:
//
//   node demo/ticker.js http://127.0.0.1:3000/rt <api-key>
import { pathToFileURL } from 'node:url';

/**
 * Starts publishing `{ n, price, at }` to `channel` every `interval` ms. A failed publish is
 * reported to `onError` and the ticker goes on: the server may be restarting.
 *
 * @param {object} options
 * @param {string} options.url server base URL, e.g. `http://127.0.0.1:3000/rt`
 * @param {string} options.apiKey the server's `--api-key`
 * @param {string} [options.channel] @default 'ticker'
 * @param {number} [options.interval] ms between ticks @default 1000
 * @param {(error: Error) => void} [options.onError] @default logs to stderr once per failure streak
 * @returns {{ stop(): void }} stops the ticker; no timer is left behind
 */
export function startTicker({ url, apiKey, channel = 'ticker', interval = 1000, onError }) {
  let n = 0;
  let price = 100;
  let failing = false;
  const report =
    onError ??
    ((error) => {
      if (!failing) console.error(`ticker: ${error.message} (retrying every ${interval} ms)`);
    });
  const tick = async () => {
    n += 1;
    // A bounded random walk, rounded to cents, so the chart moves but stays readable.
    price = Math.min(200, Math.max(50, Math.round((price + (Math.random() - 0.5) * 2) * 100) / 100));
    try {
      const res = await fetch(`${url.replace(/\/+$/, '')}/publish`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ channel, data: { n, price, at: Date.now() } }),
        signal: AbortSignal.timeout(interval * 5),
      });
      if (!res.ok) throw new Error(`POST /publish answered HTTP ${res.status}: ${await res.text()}`);
      failing = false;
    } catch (error) {
      report(error instanceof Error ? error : new Error(String(error)));
      failing = true;
    }
  };
  const timer = setInterval(tick, interval);
  // Never keep a process alive just for the ticker: the server decides when to exit.
  timer.unref?.();
  return { stop: () => clearInterval(timer) };
}

// Run directly: `node demo/ticker.js <url> <api-key>`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [url, apiKey] = process.argv.slice(2);
  if (!url || !apiKey) {
    console.error('usage: node demo/ticker.js <server-url, e.g. http://127.0.0.1:3000/rt> <api-key>');
    process.exit(2);
  }
  startTicker({ url, apiKey });
  // Keep running until stopped (the ticker's own timer is unref'd).
  setInterval(() => {}, 1 << 30);
}
