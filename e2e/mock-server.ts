import type { Page, Route } from '@playwright/test';
import type { Assets } from './assets.js';

/** The origin mocked pages load from; nothing listens there, Playwright answers everything. */
export const MOCK_ORIGIN = 'http://lifeline.test';
/** The client's base URL on the mocked origin. */
export const MOCK_URL = `${MOCK_ORIGIN}/rt`;

type Frame = Record<string, unknown> & { type: string };

/** One connection the page opened to the mocked server. */
export interface MockConnection {
  readonly transport: 'websocket' | 'longpoll';
  /** 1 for the first connection the page opened, 2 for the next, … */
  readonly index: number;
  /** Client frames received on this connection, in order. */
  readonly received: Frame[];
  /** Sends frames as one wire message. */
  send(...frames: Frame[]): void;
  /** Sends a raw text as one wire message (on long polling: as one poll answer body). */
  sendRaw(text: string): void;
  /** Sends the welcome frame. */
  welcome(heartbeat?: number): void;
  /** Closes the connection (WebSocket close code; long polling answers a `bye`). */
  close(code?: number): void;
  /** True once the page or the mock closed the connection. */
  readonly closed: boolean;
}

/** How the mock treats a new connection; the default sends the welcome at once. */
export type OnConnect = (connection: MockConnection) => void;

/**
 * A scriptable Lifeline server that lives in the test, not on the network: WebSockets through
 * `page.routeWebSocket`, long polling and the page's assets through `page.route`. Specs use it
 * for what a real server never does — malformed frames, seqs out of order, missing welcomes.
 */
export class MockServer {
  readonly connections: MockConnection[] = [];
  /** Called for each new connection; replace to script the server. */
  onConnect: OnConnect = (connection) => connection.welcome();
  /**
   * Answers the first poll of a long-poll connection instead of the mock when it returns
   * true (500s, 204s, captive portals).
   */
  onFirstPoll: ((route: Route, connection: MockConnection) => Promise<boolean>) | undefined;

  /** Installs the routes on `page` and serves the test assets on {@link MOCK_ORIGIN}. */
  async install(page: Page, assets: Assets): Promise<void> {
    await page.routeWebSocket(`${MOCK_URL.replace('http', 'ws')}/ws`, (ws) => {
      let closed = false;
      const connection: MockConnection = {
        transport: 'websocket',
        index: this.connections.length + 1,
        received: [],
        send: (...frames) => !closed && ws.send(JSON.stringify(frames)),
        sendRaw: (text) => !closed && ws.send(text),
        welcome: (heartbeat = 25_000) => connection.send(welcomeFrame(connection.index, heartbeat)),
        close: (code = 1000) => {
          if (closed) return;
          closed = true;
          void ws.close({ code });
        },
        get closed() {
          return closed;
        },
      };
      this.connections.push(connection);
      ws.onMessage((text) => connection.received.push(...parseFrames(String(text))));
      ws.onClose(() => (closed = true));
      this.onConnect(connection);
    });
    const polls = new Map<string, LongPollConnection>();
    await page.route(`${MOCK_ORIGIN}/**`, async (route) => {
      const url = new URL(route.request().url());
      const asset = assets.get(url.pathname);
      if (asset) return route.fulfill({ status: 200, contentType: asset.type, body: asset.body });
      const cid = url.searchParams.get('cid') ?? '';
      if (url.pathname === '/rt/connect') {
        const transport = (JSON.parse(route.request().postData() ?? '{}') as { transport?: string }).transport;
        if (transport !== 'longpoll')
          return route.fulfill({ status: 404, json: { error: { code: 'NOT_FOUND', message: 'mock: no SSE' } } });
        const connection = new LongPollConnection(this.connections.length + 1);
        polls.set(String(connection.index), connection);
        this.connections.push(connection);
        this.onConnect(connection);
        return route.fulfill({ status: 200, json: { cid: String(connection.index) } });
      }
      const connection = polls.get(cid);
      if (!connection || connection.closed)
        return route.fulfill({ status: 404, json: { error: { code: 'UNKNOWN_CONNECTION', message: 'mock' } } });
      if (url.pathname === '/rt/send') {
        connection.received.push(...parseFrames(route.request().postData() ?? ''));
        return route.fulfill({ status: 204 });
      }
      if (url.pathname === '/rt/poll') {
        const ack = Number(url.searchParams.get('ack'));
        if (ack === 0 && !connection.firstPollSeen) {
          connection.firstPollSeen = true;
          if (this.onFirstPoll && (await this.onFirstPoll(route, connection))) return;
        }
        return route.fulfill({ status: 200, contentType: 'application/json', body: await connection.answer(ack) });
      }
      return route.fulfill({ status: 404, body: 'mock: not found' });
    });
  }

  /** The newest connection. */
  get last(): MockConnection | undefined {
    return this.connections.at(-1);
  }
}

/** A long-poll connection: frames numbered from 1, each poll answers what is after its ack. */
class LongPollConnection implements MockConnection {
  readonly transport = 'longpoll' as const;
  readonly received: Frame[] = [];
  firstPollSeen = false;
  closed = false;
  private readonly outbox: string[] = [];
  private wake: (() => void) | undefined;

  constructor(readonly index: number) {}

  send(...frames: Frame[]): void {
    for (const frame of frames) this.outbox.push(JSON.stringify(frame));
    this.wake?.();
  }
  sendRaw(text: string): void {
    this.outbox.push(`RAW:${text}`);
    this.wake?.();
  }
  welcome(heartbeat = 25_000): void {
    this.send(welcomeFrame(this.index, heartbeat));
  }
  close(code = 1000): void {
    this.send({ type: 'bye', code, reason: 'mock closed' });
    this.closed = true;
  }

  /** The body for a poll with `ack`: the frames after it, waiting up to 1 s for some. */
  async answer(ack: number): Promise<string> {
    if (this.outbox.length <= ack) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    const pending = this.outbox.slice(ack);
    const raw = pending.findIndex((item) => item.startsWith('RAW:'));
    if (raw === 0) {
      // A raw answer stands alone; drop it so the next poll goes on past it.
      this.outbox.splice(ack, 1);
      return pending[0]!.slice(4);
    }
    return `[${(raw === -1 ? pending : pending.slice(0, raw)).join(',')}]`;
  }
}

const welcomeFrame = (index: number, heartbeat: number): Frame => ({
  type: 'welcome',
  v: 1,
  cid: `mock-${index}`,
  heartbeat,
  time: Date.now(),
});

const parseFrames = (text: string): Frame[] => {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? (parsed as Frame[]) : [];
  } catch {
    return [];
  }
};
