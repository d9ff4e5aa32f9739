/**
 * Test helpers for the reference server: start one on 127.0.0.1 port 0, and speak the protocol
 * raw over each transport (ws / SSE over node:http / long polling over fetch) without the client SDK.
 *
 *   const t = await startServer({ heartbeat: 1000 });
 *   const c = await connectRaw('sse', t.url);          // resolves after `welcome`
 *   await c.send([{ type: 'sub', channel: 'news' }]);
 *   await c.frame('subscribed');                        // waits for the next frame of that type
 *   await t.close();                                    // closes clients made by connectRaw too
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { ServerFrame } from '../../src/protocol/index.js';
import { createServer, type LifelineServer, type ServerOptions } from '../../src/server.js';

/** A server listening on a free port. */
export interface TestServer {
  server: LifelineServer;
  /** Base URL of the endpoints, e.g. `http://127.0.0.1:40000/rt`. */
  url: string;
  /** `http://127.0.0.1:PORT`, what a same-origin page would send as Origin. */
  origin: string;
  /** Closes every raw client opened on it, then the server. */
  close(): Promise<void>;
}

/** The transports a raw client can use. */
export type RawTransport = 'websocket' | 'sse' | 'longpoll';
/** Every transport, for `describe.each`. */
export const transports: RawTransport[] = ['websocket', 'sse', 'longpoll'];

const clients = new Set<RawClient>();

/** Starts a server on 127.0.0.1, port 0. */
export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const server = createServer(options);
  const { url, port } = await server.listen(0, '127.0.0.1');
  return {
    server,
    url,
    origin: `http://127.0.0.1:${port}`,
    async close() {
      for (const client of clients) if (client.url.startsWith(url)) client.close();
      await server.close();
    },
  };
}

/** How a raw connection ended: the WebSocket close code, or the `bye` code on SSE/long polling (1006 without one). */
export interface Ended {
  code: number;
  reason: string;
}

/** Options of {@link connectRaw}. */
export interface RawOptions {
  /** Sent in `hello` (WebSocket) or as `Authorization: Bearer` on `/connect`. */
  token?: string;
  /** Origin header to send. */
  origin?: string;
  /** WebSocket only: send `hello` on open (default true). Without it, `connectRaw` resolves on open. */
  hello?: boolean;
  /** Long polling only: poll automatically (default true). Off, drive it with `poll()`. */
  autoPoll?: boolean;
  /** WebSocket only: the loopback address to connect from (the server's per-address budgets see it). */
  localAddress?: string;
}

/** The outcome of one long poll. */
export interface PollResult {
  status: number;
  body: unknown;
}

/** A raw protocol connection; every message received is kept in order in `messages`. */
export interface RawClient {
  readonly transport: RawTransport;
  readonly url: string;
  /** The connection id from `welcome` ('' before it). */
  cid: string;
  /** SSE and long polling: the `Authorization` header value that `/send` and `/poll` need. */
  readonly authorization: string | undefined;
  /** Every wire message received, in order. */
  readonly messages: ServerFrame[][];
  /** Settles when the connection ends. */
  readonly ended: Promise<Ended>;
  /** The next wire message not yet taken by `next` or `frame`. */
  next(timeoutMs?: number): Promise<ServerFrame[]>;
  /** The next frame of `type` (or matching `match`), skipping the frames before it. */
  frame<T extends ServerFrame['type']>(
    type: T,
    match?: (frame: Extract<ServerFrame, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<ServerFrame, { type: T }>>;
  /** Sends a wire message (frames are JSON-encoded; a string goes as is). Resolves with the HTTP status (101 on WebSocket). */
  send(frames: unknown[] | string): Promise<number>;
  /** Long polling only: one poll with `ack` (the automatic loop must be off). */
  poll(ack: number): Promise<PollResult>;
  /** WebSocket only: the underlying socket. SSE only: the response stream. */
  readonly raw: WebSocket | IncomingMessage | undefined;
  /** Drops the connection without a goodbye. */
  close(): void;
}

/** Buffers wire messages and hands them out in order to `next` / `frame` callers. */
class Inbox {
  readonly messages: ServerFrame[][] = [];
  private message = 0;
  private frameInMessage = 0;
  private wake: (() => void) | undefined;
  private done = false;

  push(frames: ServerFrame[]): void {
    this.messages.push(frames);
    this.wake?.();
  }

  end(): void {
    this.done = true;
    this.wake?.();
  }

  private async waitFor<T>(take: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = take();
      if (value !== undefined) return value;
      if (this.done) throw new Error(`connection ended while waiting for ${what}; got ${JSON.stringify(this.messages).slice(-400)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages).slice(-400)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  next(timeoutMs: number): Promise<ServerFrame[]> {
    return this.waitFor(
      () => {
        const message = this.messages[this.message];
        if (!message) return undefined;
        this.message++;
        this.frameInMessage = 0;
        return message;
      },
      timeoutMs,
      'a message',
    );
  }

  frame(match: (frame: ServerFrame) => boolean, timeoutMs: number, what: string): Promise<ServerFrame> {
    return this.waitFor(
      () => {
        for (;;) {
          const message = this.messages[this.message];
          if (!message) return undefined;
          const frame = message[this.frameInMessage++];
          if (this.frameInMessage >= message.length) {
            this.message++;
            this.frameInMessage = 0;
          }
          if (frame && match(frame)) return frame;
        }
      },
      timeoutMs,
      what,
    );
  }
}

const authHeaders = (options: RawOptions): Record<string, string> => ({
  ...(options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` }),
  ...(options.origin === undefined ? {} : { Origin: options.origin }),
});

/** POSTs `{ v: 1, transport }` to `/connect`; throws with the status and body unless 200. */
async function connectTicket(url: string, transport: 'sse' | 'longpoll', options: RawOptions): Promise<{ cid: string; key: string }> {
  const res = await fetch(`${url}/connect`, { method: 'POST', headers: authHeaders(options), body: JSON.stringify({ v: 1, transport }) });
  const body = (await res.json()) as { cid?: string; key?: string };
  if (res.status !== 200 || typeof body.cid !== 'string' || typeof body.key !== 'string')
    throw new Error(`/connect answered ${res.status} ${JSON.stringify(body)}`);
  return { cid: body.cid, key: body.key };
}

/**
 * Opens a raw connection and resolves once `welcome` has arrived (or, for a WebSocket with
 * `hello: false`, once it is open). Rejects when the server refuses it.
 */
export async function connectRaw(transport: RawTransport, url: string, options: RawOptions = {}): Promise<RawClient> {
  const inbox = new Inbox();
  let resolveEnded!: (ended: Ended) => void;
  const ended = new Promise<Ended>((resolve) => (resolveEnded = resolve));
  const finish = (code: number, reason: string) => {
    resolveEnded({ code, reason });
    inbox.end();
  };
  const receive = (text: string) => {
    const frames = JSON.parse(text) as ServerFrame[];
    inbox.push(frames);
    for (const frame of frames) if (frame.type === 'bye' && transport !== 'websocket') finish(frame.code, frame.reason);
  };
  let raw: WebSocket | IncomingMessage | undefined;
  let send: (text: string) => Promise<number>;
  let poll: (ack: number) => Promise<PollResult> = () => Promise.reject(new Error('poll() is for long polling'));
  let close: () => void;
  let cid = '';
  let authorization: string | undefined;

  if (transport === 'websocket') {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, {
      headers: authHeaders({ ...options, token: undefined }),
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
    raw = ws;
    ws.on('message', (data) => receive(String(data)));
    ws.on('close', (code, reason) => finish(code, String(reason)));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', () => undefined);
    send = async (text) => {
      ws.send(text);
      return 101;
    };
    close = () => ws.terminate();
    if (options.hello !== false)
      ws.send(JSON.stringify([{ type: 'hello', v: 1, ...(options.token === undefined ? {} : { token: options.token }) }]));
  } else {
    let key: string;
    ({ cid, key } = await connectTicket(url, transport, options));
    const headers = authHeaders({ ...options, token: undefined });
    // /send and /poll prove the connection with its key; the cid alone (in the URL) is not enough.
    const keyed = { ...headers, Authorization: `Bearer ${key}` };
    authorization = keyed.Authorization;
    send = async (text) =>
      (await fetch(`${url}/send?cid=${cid}`, { method: 'POST', headers: { ...keyed, 'Content-Type': 'text/plain' }, body: text })).status;
    if (transport === 'sse') {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpRequest(`${url}/sse?cid=${cid}`, { headers }, resolve);
        req.on('error', reject);
        req.end();
      });
      if (res.statusCode !== 200) throw new Error(`/sse answered ${res.statusCode}`);
      raw = res;
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event
            .split('\n')
            .filter((line) => line.startsWith('data: '))
            .map((line) => line.slice(6))
            .join('\n');
          if (data) receive(data);
        }
      });
      res.on('close', () => finish(1006, 'stream closed'));
      res.on('error', () => undefined);
      close = () => res.destroy();
    } else {
      const stop = new AbortController();
      poll = async (ack) => {
        const res = await fetch(`${url}/poll?cid=${cid}&ack=${ack}`, { headers: keyed, signal: stop.signal });
        const body: unknown = await res.json();
        if (res.status === 200 && Array.isArray(body) && body.length > 0) receive(JSON.stringify(body));
        return { status: res.status, body };
      };
      close = () => {
        stop.abort();
        finish(1006, 'closed by test');
      };
      if (options.autoPoll !== false) {
        void (async () => {
          let ack = 0;
          for (;;) {
            const result = await poll(ack).catch(() => undefined);
            if (result?.status !== 200) return finish(1006, `poll failed: ${result?.status ?? 'network'}`);
            ack += (result.body as unknown[]).length;
            if ((result.body as ServerFrame[]).some((f) => f.type === 'bye')) return;
          }
        })();
      }
    }
  }

  const client: RawClient = {
    transport,
    url,
    cid,
    authorization,
    messages: inbox.messages,
    ended,
    raw,
    next: (timeoutMs = 5000) => inbox.next(timeoutMs),
    frame: (type, match, timeoutMs = 5000) =>
      inbox.frame((f) => f.type === type && (!match || match(f as never)), timeoutMs, `a "${type}" frame`) as never,
    send: (frames) => send(typeof frames === 'string' ? frames : JSON.stringify(frames)),
    poll,
    close() {
      clients.delete(client);
      close();
    },
  };
  clients.add(client);
  void ended.then(() => clients.delete(client));
  if (transport !== 'websocket' || options.hello !== false) {
    if (transport === 'longpoll' && options.autoPoll === false) return client;
    const welcome = await client.frame('welcome');
    client.cid = welcome.cid;
  }
  return client;
}

/** Resolves after pending I/O callbacks and immediates have run (one turn of the event loop). */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Waits until `check` is true, polling every 10 ms; throws after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** An HTTP request through fetch, answering status, headers and the parsed JSON body (undefined if none). */
export async function http(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, body };
}

/** Status and body of a WebSocket upgrade request, read as plain HTTP. */
export function upgradeStatus(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; upgraded: boolean; headers: IncomingMessage['headers'] }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/ws`, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '', upgraded: true, headers: res.headers });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, upgraded: false, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}
