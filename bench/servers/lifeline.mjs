// The Lifeline reference server (built: dist/server.js, memory broker) for the benchmarks, on
// 127.0.0.1, port 0. Besides its own endpoints under /rt it answers:
//   GET  /                              a blank page for Chromium
//   POST /bench/burst?channel&n&size    publishes n messages of `size` bytes with server.publish()
//   POST /bench/fanout?k                one publish {k, …} to channel "fan"
//   POST /bench/stream?channel&n&interval  n messages {s, t}, one every interval ms
// Options come as JSON in argv[2] (e.g. '{"historySize":10}'); limits a benchmark would trip
// over (per-IP connections, publish rate) are raised, and said so in docs/benchmarks.md.
import { createServer } from '../../dist/server.js';
import { ready } from '../lib/proc.mjs';
import { paced, payload, query, serveBlank } from '../lib/payload.mjs';

const overrides = JSON.parse(process.argv[2] ?? '{}');

const realtime = createServer({
  allowOrigins: ['*'],
  apiKey: 'bench',
  maxConnectionsPerIp: 100_000,
  maxSocketsPerIp: 100_000,
  publishRate: 1_000_000,
  publishBurst: 1_000_000,
  maxInboundRatePerIp: Number.MAX_SAFE_INTEGER,
  ...overrides,
  fallback(req, res) {
    if (serveBlank(req, res)) return;
    if (req.method === 'POST' && req.url.startsWith('/bench/burst')) {
      const { channel, n, size } = query(req);
      res.writeHead(202).end();
      burst(channel, Number(n), Number(size)).catch((error) => console.error('burst failed', error));
      return;
    }
    if (req.method === 'POST' && req.url.startsWith('/bench/fanout')) {
      const { k } = query(req);
      realtime.publish('fan', { k: Number(k), ...payload(0, 80) }).then(
        () => res.writeHead(204).end(),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (req.method === 'POST' && req.url.startsWith('/bench/stream')) {
      const { channel, n, interval } = query(req);
      res.writeHead(202).end();
      paced(Number(n), Number(interval), (message) => realtime.publish(channel, message).catch(() => {}));
      return;
    }
    res.writeHead(404).end();
  },
});

async function burst(channel, n, size) {
  for (let i = 0; i < n; i++) await realtime.publish(channel, payload(i, size));
}

const { url, port } = await realtime.listen(0, '127.0.0.1');
ready({ url, port, origin: `http://127.0.0.1:${port}` });
