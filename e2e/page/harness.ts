// Runs inside the test page. It drives one Lifeline client and writes down everything the
// client says, with timestamps, in `window.harness`, where specs read it with page.evaluate.
// Typed against the public API described in issue 3, not against src, so it compiles into the
// page on its own and checks nothing but the surface users see.

/** A channel position, as the client reports it in message metadata. */
export interface PageCursor {
  epoch: string;
  seq: number;
}

/** The slice of a Lifeline client the harness uses. */
export interface PageClient {
  readonly state: string;
  readonly transport: string | null;
  on(event: 'state', listener: (change: { from: string; to: string; reason?: unknown }) => void): () => void;
  on(event: 'transport', listener: (name: string | null) => void): () => void;
  on(event: 'error', listener: (error: { code?: string; message?: string }) => void): () => void;
  subscribe(channel: string, options?: { since?: PageCursor }): PageSubscription;
  publish(channel: string, data: unknown): Promise<PageCursor>;
  close(): void;
}

/** The slice of a subscription the harness uses. */
export interface PageSubscription {
  on(event: 'message', listener: (data: unknown, meta: { channel: string; seq: number; epoch: string }) => void): () => void;
  on(event: 'gap', listener: (info: unknown) => void): () => void;
  unsubscribe(): void;
}

/** `createClient` as both builds export it. */
export type CreateClient = (url: string, options?: Record<string, unknown>) => PageClient;

/** One received message with the time (performance.now) it reached the application. */
export interface Received {
  data: unknown;
  seq: number;
  epoch: string;
  t: number;
}

/** What the harness records and offers; `window.harness` in the page. */
export interface Harness {
  /** Which build created the harness: 'script-tag' or 'spa'. */
  build: string;
  /** performance.now() when `start` was called. */
  startedAt: number;
  states: { from: string; to: string; reason: string; t: number }[];
  transports: { name: string | null; t: number }[];
  errors: { code: string; message: string; t: number }[];
  messages: Record<string, Received[]>;
  gaps: Record<string, { info: unknown; t: number }[]>;
  /** Results of `publish` calls by the key the caller gave: the cursor, or the error's code. */
  published: Record<string, { ok: PageCursor } | { failed: string }>;
  client: PageClient | undefined;
  /** Creates the client; options are passed through to createClient. */
  start(url: string, options?: Record<string, unknown>): void;
  subscribe(channel: string, since?: PageCursor): void;
  /** Publishes and records the outcome under `key`. */
  publish(key: string, channel: string, data: unknown): Promise<void>;
  /** The last delivered (epoch, seq) of a channel, or undefined. */
  cursor(channel: string): PageCursor | undefined;
  /** Saves every channel's cursor in sessionStorage (to survive a reload). */
  saveCursors(): void;
  /** Cursors saved by `saveCursors` before a reload. */
  savedCursors(): Record<string, PageCursor>;
}

declare global {
  interface Window {
    harness: Harness;
  }
}

const SAVED = 'lifeline-e2e-cursors';

/** Installs `window.harness` around `createClient`. */
export function installHarness(createClient: CreateClient, build: string): Harness {
  const now = () => performance.now();
  const harness: Harness = {
    build,
    startedAt: 0,
    states: [],
    transports: [],
    errors: [],
    messages: {},
    gaps: {},
    published: {},
    client: undefined,
    start(url, options) {
      harness.startedAt = now();
      const client = createClient(url, options);
      harness.client = client;
      client.on('state', ({ from, to, reason }) => harness.states.push({ from, to, reason: String(reason), t: now() }));
      client.on('transport', (name) => harness.transports.push({ name, t: now() }));
      client.on('error', (error) => harness.errors.push({ code: String(error?.code), message: String(error?.message), t: now() }));
    },
    subscribe(channel, since) {
      harness.messages[channel] ??= [];
      harness.gaps[channel] ??= [];
      const list = harness.messages[channel];
      const gaps = harness.gaps[channel];
      const sub = harness.client!.subscribe(channel, since ? { since } : {});
      sub.on('message', (data, meta) => list.push({ data, seq: meta.seq, epoch: meta.epoch, t: now() }));
      sub.on('gap', (info) => gaps.push({ info, t: now() }));
    },
    async publish(key, channel, data) {
      try {
        harness.published[key] = { ok: await harness.client!.publish(channel, data) };
      } catch (error) {
        harness.published[key] = { failed: String((error as { code?: string }).code ?? error) };
      }
    },
    cursor(channel) {
      const last = harness.messages[channel]?.at(-1);
      return last && { epoch: last.epoch, seq: last.seq };
    },
    saveCursors() {
      const cursors: Record<string, PageCursor> = {};
      for (const channel of Object.keys(harness.messages)) {
        const cursor = harness.cursor(channel);
        if (cursor) cursors[channel] = cursor;
      }
      sessionStorage.setItem(SAVED, JSON.stringify(cursors));
    },
    savedCursors() {
      return JSON.parse(sessionStorage.getItem(SAVED) ?? '{}') as Record<string, PageCursor>;
    },
  };
  window.harness = harness;
  return harness;
}
