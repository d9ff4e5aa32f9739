// A fan-out load generator: COUNT WebSocket subscribers in this one process.
//   node subscribers.mjs <ws url> <count> lifeline|raw
// lifeline: each sends `hello`, then `sub` to channel "fan", and answers the server's pings;
// raw: each just connects. Every message whose text carries `"k":<n>` records its arrival
// (performance.timeOrigin + performance.now(), comparable across processes on one machine).
// Prints `READY {}` once all are subscribed; a line `dump` on stdin prints, as one JSON line,
// per sample k the last arrival and how many arrived.
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { ready } from '../lib/proc.mjs';

const [url, countText, kind] = process.argv.slice(2);
const count = Number(countText);
const CONNECTING_AT_ONCE = 100;
const samples = new Map();
const sampleKey = /"k":(\d+)/;
const clock = () => performance.timeOrigin + performance.now();

function arrived(text) {
  const match = sampleKey.exec(text);
  if (!match) return;
  const at = clock();
  const sample = samples.get(match[1]);
  if (sample) {
    sample.count++;
    sample.last = Math.max(sample.last, at);
  } else samples.set(match[1], { count: 1, last: at, first: at });
}

function connect() {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once('error', reject);
    socket.once('open', () => {
      if (kind === 'raw') {
        socket.on('message', (data) => arrived(data.toString()));
        return resolve(socket);
      }
      socket.send('[{"type":"hello","v":1}]');
      socket.on('message', (data) => {
        const text = data.toString();
        if (text.includes('"type":"welcome"')) socket.send('[{"type":"sub","channel":"fan"}]');
        if (text.includes('"type":"subscribed"')) resolve(socket);
        if (text.includes('"type":"ping"')) socket.send('[{"type":"pong"}]');
        arrived(text);
      });
    });
  });
}

const sockets = [];
let next = 0;
await Promise.all(
  Array.from({ length: CONNECTING_AT_ONCE }, async () => {
    while (next < count) {
      next++;
      sockets.push(await connect());
    }
  }),
);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'dump') process.stdout.write(`${JSON.stringify(Object.fromEntries(samples))}\n`);
});
ready({ connected: sockets.length });
