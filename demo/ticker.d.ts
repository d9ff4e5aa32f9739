/** Options of {@link startTicker}. */
export interface TickerOptions {
  /** Server base URL, e.g. `http://127.0.0.1:3000/rt`. */
  url: string;
  /** The server's API key (`--api-key`), for `POST {path}/publish`. */
  apiKey: string;
  /** Channel to publish on. @default 'ticker' */
  channel?: string;
  /** Milliseconds between ticks. @default 1000 */
  interval?: number;
  /** Called with each failed publish. @default logs to stderr once per failure streak */
  onError?: (error: Error) => void;
}

/** Publishes `{ n, price, at }` to the ticker channel every `interval` ms until stopped. */
export function startTicker(options: TickerOptions): { stop(): void };
