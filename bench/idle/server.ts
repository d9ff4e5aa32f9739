// One server process of the idle-memory benchmark: `lifeline` (createServer, memory broker) or
// `ws` (a bare WebSocketServer, the baseline). Prints `{"url":…}` (where to connect) once listening; then each
// line `measure` on stdin is answered with one JSON line of process.memoryUsage() taken after
// a full gc (run with --expose-gc), and each line `snapshot <path>` with a heap snapshot
// written there.
import { createInterface } from 'node:readline';
import { writeHeapSnapshot } from 'node:v8';
import { WebSocketServer } from 'ws';
import { memoryBroker } from '../../src/server/brokers/memory.js';
import { createServer } from '../../src/server/server.js';

const kind = process.argv[2];

/**
 * Listens on a free loopback port; resolves the WebSocket URL to connect to (and for Lifeline,
 * its base URL for SSE and long polling).
 */
async function listen(): Promise<{ url: string; http?: string }> {
  if (kind === 'ws') {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    // What every real ws server does at least: answer the client's first message.
    wss.on('connection', (socket) => socket.once('message', () => socket.send('[{"type":"welcome"}]')));
    return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}` };
  }
  const server = createServer({
    broker: memoryBroker(),
    // Every client comes from 127.0.0.1; the per-IP limits would refuse all but a few.
    maxConnectionsPerIp: 1_000_000,
    maxSocketsPerIp: 1_000_000,
  });
  const { url } = await server.listen(0, '127.0.0.1');
  return { url: `${url.replace(/^http/, 'ws')}/ws`, http: url };
}

const settle = async () => {
  for (let i = 0; i < 4; i++) {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

console.log(JSON.stringify(await listen()));
for await (const line of createInterface({ input: process.stdin })) {
  const [command, path] = line.trim().split(' ');
  if (command === 'measure') {
    await settle();
    console.log(JSON.stringify(process.memoryUsage()));
  } else if (command === 'snapshot' && path) {
    // For BREAKDOWN=1: what the heap holds, by constructor, written where the runner asked.
    await settle();
    console.log(JSON.stringify({ path: writeHeapSnapshot(path) }));
  }
}
