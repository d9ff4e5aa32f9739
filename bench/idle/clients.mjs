// The load generator of the idle-memory benchmark, in its own process: opens `count`
// connections to `url` on `transport` (websocket: `url` is the WebSocket URL, sends a Lifeline
// `hello` and waits for the first answer; sse / longpoll: `url` is the server's base URL,
// POSTs /connect and waits for the stream's or the first poll's first frames), at most
// `parallel` at a time. Prints `{"open":n}` when done and keeps them open, idle (a long-poll
// client polls again whenever a poll is answered), until stdin closes.
import { Agent, request } from 'node:http';
import WebSocket from 'ws';

const [url, countText, parallelText = '200', transport = 'websocket'] = process.argv.slice(2);
const count = Number(countText);
const parallel = Number(parallelText);
const sockets = [];
const streams = [];
let next = 0;
let failed = 0;
let stopped = false;
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

/** One HTTP request; resolves the response (its body left to the caller). */
const call = (path, { method = 'GET', headers = {}, body } = {}) =>
  new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers, agent }, resolve);
    req.on('error', reject);
    req.end(body);
  });

const text = (res) =>
  new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => (body += chunk));
    res.on('end', () => resolve(body));
    res.on('error', reject);
  });

async function connect(kind) {
  const res = await call('/connect', { method: 'POST', body: JSON.stringify({ v: 1, transport: kind }) });
  return JSON.parse(await text(res));
}

async function openSse() {
  const { cid } = await connect('sse');
  const res = await call(`/sse?cid=${cid}`);
  if (res.statusCode !== 200) throw new Error(`/sse answered ${res.statusCode}`);
  streams.push(res);
  // The first event is the welcome; the stream is then read (and dropped) as it comes.
  await new Promise((resolve) => res.once('data', resolve));
  res.resume();
}

async function openLongPoll() {
  const { cid, key } = await connect('longpoll');
  let ack = 0;
  const poll = async () => {
    const res = await call(`/poll?cid=${cid}&ack=${ack}`, { headers: { Authorization: `Bearer ${key}` } });
    const frames = JSON.parse(await text(res));
    ack += frames.length;
  };
  await poll();
  void (async () => {
    while (!stopped) await poll().catch(() => undefined);
  })();
}

const openWebSocket = () =>
  new Promise((resolve) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      failed++;
      socket.terminate();
      resolve();
    }, 30_000);
    socket.once('open', () => socket.send(JSON.stringify([{ type: 'hello', v: 1 }])));
    socket.once('message', () => {
      clearTimeout(timer);
      sockets.push(socket);
      resolve();
    });
    socket.once('error', () => {
      clearTimeout(timer);
      failed++;
      resolve();
    });
  });

let opened = 0;
const openOne = async () => {
  if (transport === 'websocket') return openWebSocket();
  try {
    await (transport === 'sse' ? openSse() : openLongPoll());
    opened++;
  } catch {
    failed++;
  }
};

await Promise.all(
  Array.from({ length: parallel }, async () => {
    while (next < count) {
      next++;
      await openOne();
    }
  }),
);
const open = transport === 'websocket' ? sockets.filter((s) => s.readyState === WebSocket.OPEN).length : opened;
console.log(JSON.stringify({ open, failed }));
process.stdin.resume();
process.stdin.on('end', () => {
  stopped = true;
  for (const socket of sockets) socket.terminate();
  for (const stream of streams) stream.destroy();
  process.exit(0);
});
