// socket.io 4 (bench/node_modules), default options, on 127.0.0.1, port 0:
//   GET /           a blank page for Chromium
//   'burst' {n, size}  → n × socket.emit('m', message)
//   'echo' data        → socket.emit('echo', data)
//   'stream' {n, interval} → n messages {s, t}, one every interval ms, to every client
//   'pub' data, ack    → ack(true)
import http from 'node:http';
import { Server } from 'socket.io';
import { ready } from '../lib/proc.mjs';
import { paced, payload, serveBlank } from '../lib/payload.mjs';

const server = http.createServer((req, res) => {
  if (!serveBlank(req, res) && !req.url.startsWith('/socket.io/')) res.writeHead(404).end();
});
const io = new Server(server);
io.on('connection', (socket) => {
  socket.on('burst', ({ n, size }) => {
    for (let i = 0; i < n; i++) socket.emit('m', payload(i, size));
  });
  socket.on('echo', (data) => socket.emit('echo', data));
  // To every client (io.emit), so a client that reconnected mid-stream still gets the rest.
  socket.on('stream', ({ n, interval }) => paced(n, interval, (message) => io.emit('m', message)));
  socket.on('pub', (_data, ack) => ack?.(true));
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  ready({ port, origin: `http://127.0.0.1:${port}` });
});
