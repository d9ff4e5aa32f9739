// Publishes per round trip on each transport, through the fault proxy at 0 and 50 ms each
// way: 1,000 publishes fired without awaiting, timed until the last ack. Node clients (ws,
// the eventsource package), not a browser: it measures the protocol's batching, not
// Chromium's per-frame costs. Writes bench/results/links.json.
import { writeFileSync } from 'node:fs';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { startFaultProxy } from '../../e2e/fault-proxy.js';
import { createClient } from '../../src/index.js';
import { createServer } from '../../src/server.js';
import type { TransportName } from '../../src/transports/transport.js';

const COUNT = 1000;
const server = createServer({});
const { url } = await server.listen(0, '127.0.0.1');
const target = url.replace(/\/rt$/, '');
const results: { transport: TransportName; latencyEachWay: number; rttMs: number; perSecond: number; perRoundTrip: number }[] = [];

for (const latency of [0, 50]) {
  const proxy = await startFaultProxy({ target, modes: { latency } });
  for (const transport of ['websocket', 'sse', 'longpoll'] as TransportName[]) {
    const client = createClient(`${proxy.url}/rt`, {
      transports: [transport],
      rememberTransport: false,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      EventSource: EventSource as unknown as typeof globalThis.EventSource,
    });
    await new Promise<void>((resolve) => client.on('state', ({ to }) => to === 'open' && resolve()));
    // The round trip as the client sees it: one awaited publish.
    let start = performance.now();
    await client.publish('bench', 0);
    const rttMs = performance.now() - start;
    start = performance.now();
    await Promise.all(Array.from({ length: COUNT }, (_, i) => client.publish('bench', i)));
    const seconds = (performance.now() - start) / 1000;
    const perSecond = COUNT / seconds;
    results.push({
      transport,
      latencyEachWay: latency,
      rttMs: Math.round(rttMs),
      perSecond: Math.round(perSecond),
      perRoundTrip: Math.round((perSecond * rttMs) / 100) / 10,
    });
    client.close();
    console.log(results.at(-1));
  }
  await proxy.close();
}
await server.close();
// Run from the repository root (npm run bench:links); the bundle itself lives elsewhere.
writeFileSync('bench/results/links.json', `${JSON.stringify({ count: COUNT, results }, null, 2)}\n`);
