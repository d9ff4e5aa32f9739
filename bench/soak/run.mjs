// Churn soak (issue 11): `npm run bench:soak` (after `npm run build`). Runs the built server in
// a child process for SOAK_MINUTES (10 by default) while CLIENTS real clients (dist/index.js)
// churn: every CHURN_MS (500) one of them closes and a new one connects, on websocket, sse and long
// polling in turn, each subscribed to a channel the server publishes to 20 times a second.
// Reports the server's RSS and heap (after a full GC) and their slopes per 10 minutes, fitted
// after the first minute's warm-up, and writes them to bench/results/soak.json.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { createClient } from '../../dist/index.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const CLIENTS = Number(process.env.CLIENTS ?? 50);
const CHURN_MS = Number(process.env.CHURN_MS ?? 500);
const WARMUP_MS = Math.min(60_000, (MINUTES * 60_000) / 5);
// Node 20 has neither an EventSource nor (without a flag) a WebSocket.
globalThis.EventSource ??= EventSource;

const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(new URL('./server.mjs', import.meta.url))], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const samples = [];
const url = await new Promise((resolve) => {
  createInterface({ input: child.stdout }).on('line', (line) => {
    const value = JSON.parse(line);
    if (value.url) resolve(value.url);
    else {
      samples.push(value);
      const mb = (bytes) => (bytes / 1048576).toFixed(1);
      process.stdout.write(
        `${(value.t / 60_000).toFixed(1)} min: rss ${mb(value.rss)} MB, heap ${mb(value.heapUsed)} MB, ${value.connections} connections\n`,
      );
    }
  });
});

const transports = ['websocket', 'sse', 'longpoll'];
let opened = 0;
let received = 0;
/** Client error events by code. */
const errors = {};
const clients = [];
const open = () => {
  const client = createClient(url, { transports: [transports[opened++ % 3]], rememberTransport: false, WebSocket });
  client.on('error', (error) => (errors[error.code] = (errors[error.code] ?? 0) + 1));
  client.subscribe('soak').on('message', () => received++);
  clients.push(client);
};
for (let i = 0; i < CLIENTS; i++) open();
const churn = setInterval(() => {
  clients.splice(Math.floor(Math.random() * clients.length), 1)[0]?.close();
  open();
}, CHURN_MS);

await new Promise((resolve) => setTimeout(resolve, MINUTES * 60_000 + 1000));
clearInterval(churn);
for (const client of clients) client.close();
child.kill('SIGTERM');

/** Least-squares slope of `key` over time, in bytes per 10 minutes. */
function slope(points, key) {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p[key], 0) / n;
  const num = points.reduce((s, p) => s + (p.t - mx) * (p[key] - my), 0);
  const den = points.reduce((s, p) => s + (p.t - mx) ** 2, 0);
  return (num / den) * 600_000;
}
const fitted = samples.filter((s) => s.t >= WARMUP_MS);
const mb = (bytes) => Math.round((bytes / 1048576) * 100) / 100;
const result = {
  date: new Date().toISOString(),
  node: process.version,
  minutes: MINUTES,
  clients: CLIENTS,
  churnMs: CHURN_MS,
  connectionsOpened: opened,
  messagesReceived: received,
  clientErrors: errors,
  rssStartMB: mb(fitted[0].rss),
  rssEndMB: mb(fitted.at(-1).rss),
  heapStartMB: mb(fitted[0].heapUsed),
  heapEndMB: mb(fitted.at(-1).heapUsed),
  rssSlopeMBPer10Min: mb(slope(fitted, 'rss')),
  heapSlopeMBPer10Min: mb(slope(fitted, 'heapUsed')),
  samples,
};
const { samples: _, clientErrors, ...summary } = result;
console.table([summary]);
console.log('client errors by code:', clientErrors);
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/soak.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
process.exit(0);
