// The load generator of the idle-memory benchmark, in its own process: opens `count`
// WebSockets to `url`, sends each a Lifeline `hello` and waits for the first answer, at most
// `parallel` handshakes at a time. Prints `{"open":n}` when done and keeps the sockets open,
// idle, until stdin closes.
import WebSocket from 'ws';

const [url, countText, parallelText = '200'] = process.argv.slice(2);
const count = Number(countText);
const parallel = Number(parallelText);
const sockets = [];
let next = 0;
let failed = 0;

const openOne = () =>
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

await Promise.all(
  Array.from({ length: parallel }, async () => {
    while (next < count) {
      next++;
      await openOne();
    }
  }),
);
console.log(JSON.stringify({ open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length, failed }));
process.stdin.resume();
process.stdin.on('end', () => {
  for (const socket of sockets) socket.terminate();
  process.exit(0);
});
