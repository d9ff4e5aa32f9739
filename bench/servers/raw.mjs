// The raw baselines: what a browser gets from a server that does nothing but move bytes. One
// node:http server on 127.0.0.1, port 0, with `ws` (the same package Lifeline's server uses):
//   GET  /                 a blank page for Chromium
//   WS   /ws               text {"burst":n,"size":s,"per":p} → n messages, p per frame (a JSON
//                          array when p > 1); any other text is echoed back (round trips)
//   GET  /sse              an event stream: first `event: hello` with the stream's id
//   GET  /lp/open          a long-poll queue's id
//   GET  /lp/poll?id&after everything queued after index `after`, as a JSON array; held up to
//                          20 s while there is nothing
//   POST /burst?kind=sse|lp&id&n&size   n messages to that stream or queue, produced at once
//   POST /fanout?k         one message {k, …} to every WebSocket, in a loop
//   POST /echo?kind=sse|lp|none&id      the body, back through that stream or queue (none: just
//                                       the 204, an upstream publish's acknowledgement)
// Producers write everything at once: the baseline is the transport's best case.
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { ready } from '../lib/proc.mjs';
import { payload, query, serveBlank } from '../lib/payload.mjs';

const streams = new Map();
const queues = new Map();
let nextId = 1;

function body(req) {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => resolve(text));
  });
}

function lpPush(queue, items) {
  queue.items.push(...items);
  // Answered on the next turn, so one burst goes out whole, as a server that batches would.
  if (queue.waiting && !queue.scheduled) {
    queue.scheduled = true;
    setImmediate(() => {
      queue.scheduled = false;
      lpAnswer(queue);
    });
  }
}

function lpAnswer(queue) {
  const res = queue.waiting;
  if (!res) return;
  clearTimeout(queue.timer);
  queue.waiting = undefined;
  const items = queue.items.slice(queue.after - queue.base);
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(`[${items.join(',')}]`);
}

const server = http.createServer(async (req, res) => {
  if (serveBlank(req, res)) return;
  const q = query(req);
  const path = req.url.split('?')[0];
  if (path === '/sse') {
    const id = String(nextId++);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(`event: hello\ndata: ${id}\n\n`);
    streams.set(id, res);
    req.on('close', () => streams.delete(id));
    return;
  }
  if (path === '/lp/open') {
    const id = String(nextId++);
    queues.set(id, { items: [], base: 0, after: 0, waiting: undefined, timer: undefined, scheduled: false });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
    return;
  }
  if (path === '/lp/poll') {
    const queue = queues.get(q.id);
    if (!queue) return res.writeHead(404).end();
    const after = Number(q.after);
    // Drop what the client has confirmed.
    queue.items.splice(0, after - queue.base);
    queue.base = after;
    queue.after = after;
    queue.waiting?.writeHead(200).end('[]');
    queue.waiting = res;
    if (queue.items.length > 0) return lpAnswer(queue);
    queue.timer = setTimeout(() => lpAnswer(queue), 20_000);
    return;
  }
  if (req.method === 'POST' && path === '/fanout') {
    // The raw fan-out loop: one message, one send per connected WebSocket.
    const text = JSON.stringify({ k: Number(q.k), ...payload(0, 80) });
    for (const client of wss.clients) client.send(text);
    return res.writeHead(204).end();
  }
  if (req.method === 'POST' && (path === '/burst' || path === '/echo')) {
    const text = await body(req);
    res.writeHead(204).end();
    const n = path === '/burst' ? Number(q.n) : 1;
    const items = path === '/burst' ? Array.from({ length: n }, (_, i) => JSON.stringify(payload(i, Number(q.size)))) : [text];
    if (q.kind === 'sse') {
      const stream = streams.get(q.id);
      // 100 events per write: one event per message, as SSE carries them, without paying a
      // chunk per event.
      for (let i = 0; i < items.length; i += 100)
        stream?.write(
          items
            .slice(i, i + 100)
            .map((item) => `data: ${item}\n\n`)
            .join(''),
        );
    } else if (q.kind === 'lp') {
      const queue = queues.get(q.id);
      if (queue) lpPush(queue, items);
    }
    return;
  }
  res.writeHead(404).end();
});

const wss = new WebSocketServer({ server, path: '/ws' });
wss.on('connection', (socket) => {
  socket.on('message', (data) => {
    const text = data.toString();
    if (!text.startsWith('{"burst"')) return socket.send(text);
    const { burst: n, size, per } = JSON.parse(text);
    for (let i = 0; i < n; i += per) {
      if (per === 1) socket.send(JSON.stringify(payload(i, size)));
      else socket.send(JSON.stringify(Array.from({ length: Math.min(per, n - i) }, (_, k) => payload(i + k, size))));
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  ready({ port, origin: `http://127.0.0.1:${port}` });
});
