// A tiny Lifeline server made of msw handlers, speaking the protocol on all three transports
// well enough for client tests: welcome, sub → subscribed, pub → ack, ping → pong, and
// `push()` to deliver frames on whichever connections are open. Each transport can be made
// to misbehave the way networks do (refused, hanging, buffered, captive portal).
import { http, HttpResponse, sse, ws } from 'msw';

/** How a mocked transport behaves. */
export type Behaviour = 'ok' | 'refused' | 'hanging' | 'portal';

/** Options of {@link mockLifeline}. */
export interface MockOptions {
  websocket?: Behaviour;
  sse?: Behaviour;
  longpoll?: Behaviour;
}

type Frame = Record<string, unknown>;

/** A mocked server at `base` (e.g. `http://localhost/rt`). Pass `handlers` to `server.use`. */
export function mockLifeline(base: string, options: MockOptions = {}) {
  const behaviour = { websocket: 'ok', sse: 'ok', longpoll: 'ok', ...options };
  /** Every frame clients sent, in arrival order. */
  const received: Frame[] = [];
  /** Tokens seen in `hello` frames and `Authorization` headers. */
  const tokens: (string | undefined)[] = [];
  /** Every request URL, WebSocket included. */
  const urls: string[] = [];
  /** Open connections by cid, each with a way to deliver frames. */
  const connections = new Map<string, { transport: string; deliver(frames: Frame[]): void; closed: boolean }>();
  let seq = 0;
  let cids = 0;
  let socketsClosed = 0;
  const welcome = (cid: string): Frame => ({ type: 'welcome', v: 1, cid, heartbeat: 25_000, time: Date.now() });

  /** The answer of a server to one client frame. */
  const answer = (frame: Frame): Frame[] => {
    received.push(frame);
    if (frame.type === 'sub') return [{ type: 'subscribed', channel: frame.channel, epoch: 'e1', seq }];
    if (frame.type === 'pub') {
      const at = ++seq;
      return [
        { type: 'ack', id: frame.id, channel: frame.channel, epoch: 'e1', seq: at },
        { type: 'msg', channel: frame.channel, epoch: 'e1', seq: at, data: frame.data },
      ];
    }
    if (frame.type === 'ping') return [{ type: 'pong' }];
    return [];
  };
  const receiveWire = (cid: string, text: string) => {
    const out = (JSON.parse(text) as Frame[]).flatMap(answer);
    if (out.length) connections.get(cid)?.deliver(out);
  };
  const portal = () => HttpResponse.html('<html><body>Sign in to the Wi-Fi</body></html>');

  const link = ws.link(`${base.replace(/^http/, 'ws')}/ws`);
  const handlers = [
    link.addEventListener('connection', ({ client }) => {
      urls.push(client.url.href);
      client.addEventListener('close', () => socketsClosed++);
      if (behaviour.websocket === 'refused') return client.close(1006, '');
      if (behaviour.websocket === 'hanging') return;
      const cid = `ws-${++cids}`;
      let hello = false;
      client.addEventListener('message', (event) => {
        if (!hello) {
          hello = true;
          tokens.push((JSON.parse(String(event.data)) as Frame[])[0]?.token as string | undefined);
          connections.set(cid, { transport: 'websocket', deliver: (frames) => client.send(JSON.stringify(frames)), closed: false });
          client.addEventListener('close', () => (connections.get(cid)!.closed = true));
          client.send(JSON.stringify([welcome(cid)]));
          return;
        }
        receiveWire(cid, String(event.data));
      });
    }),
    http.post(`${base}/connect`, async ({ request }) => {
      urls.push(request.url);
      const { transport } = (await request.json()) as { transport: 'sse' | 'longpoll' };
      if (behaviour[transport] === 'portal') return portal();
      if (behaviour[transport] === 'refused') return HttpResponse.error();
      tokens.push(request.headers.get('authorization')?.replace(/^Bearer /, ''));
      const cid = `${transport}-${++cids}`;
      if (transport === 'longpoll') {
        // Frames numbered from 1; a poll with ack=K drops 1…K and takes the rest.
        let pending: Frame[] = [welcome(cid)];
        let acked = 0;
        let wake = () => {};
        connections.set(cid, {
          transport,
          deliver(frames) {
            pending.push(...frames);
            wake();
          },
          closed: false,
        });
        pollers.set(cid, async (ack, signal) => {
          pending = pending.slice(ack - acked);
          acked = ack;
          if (!pending.length)
            await new Promise<void>((resolve) => {
              wake = resolve;
              signal.addEventListener('abort', () => resolve());
            });
          return pending.slice();
        });
      }
      return HttpResponse.json({ cid });
    }),
    sse(`${base}/sse`, ({ client, request }) => {
      urls.push(request.url);
      if (behaviour.sse === 'hanging') return; // a buffering proxy: open, and nothing comes through
      const cid = new URL(request.url).searchParams.get('cid')!;
      connections.set(cid, { transport: 'sse', deliver: (frames) => client.send({ data: JSON.stringify(frames) }), closed: false });
      request.signal.addEventListener('abort', () => (connections.get(cid)!.closed = true));
      client.send({ data: JSON.stringify([welcome(cid)]) });
    }),
    http.post(`${base}/send`, async ({ request }) => {
      urls.push(request.url);
      receiveWire(new URL(request.url).searchParams.get('cid')!, await request.text());
      return new HttpResponse(null, { status: 204 });
    }),
    http.get(`${base}/poll`, async ({ request }) => {
      urls.push(request.url);
      if (behaviour.longpoll === 'portal') return portal();
      const params = new URL(request.url).searchParams;
      const poller = pollers.get(params.get('cid')!);
      if (!poller) return HttpResponse.json({ error: { code: 'UNKNOWN_CONNECTION' } }, { status: 404 });
      return HttpResponse.json(await poller(Number(params.get('ack')), request.signal));
    }),
  ];
  const pollers = new Map<string, (ack: number, signal: AbortSignal) => Promise<Frame[]>>();

  return {
    handlers,
    received,
    tokens,
    urls,
    /** Connections opened so far, by transport, and whether the client closed them (WebSocket, SSE). */
    connections,
    /** How many mocked WebSockets have closed, whoever closed them. */
    socketsClosed: () => socketsClosed,
    /** Delivers frames on every open connection. */
    push(...frames: Frame[]) {
      for (const connection of connections.values()) if (!connection.closed) connection.deliver(frames);
    },
    /** Publishes as the backend would: the next seq of epoch `e1`, pushed to every open connection. */
    publish(channel: string, data: unknown) {
      this.push({ type: 'msg', channel, epoch: 'e1', seq: ++seq, data });
    },
  };
}
