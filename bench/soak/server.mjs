// The soak's server: the built reference server (dist/server.js) with its defaults, in its own
// process so that its memory is its own. Publishes 20 messages a second to "soak" and prints a
// JSON line { t, rss, heapUsed, connections } every SAMPLE_MS after a full GC (--expose-gc).
import { createServer } from '../../dist/server.js';

const SAMPLE_MS = Number(process.env.SAMPLE_MS ?? 10_000);
const server = createServer();
const { url } = await server.listen(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ url })}\n`);
let n = 0;
const publisher = setInterval(() => void server.publish('soak', { n: n++, pad: 'x'.repeat(200) }).catch(() => undefined), 50);
const started = Date.now();
const sampler = setInterval(() => {
  globalThis.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  process.stdout.write(`${JSON.stringify({ t: Date.now() - started, rss, heapUsed, connections: server.connections })}\n`);
}, SAMPLE_MS);
process.once('SIGTERM', async () => {
  clearInterval(publisher);
  clearInterval(sampler);
  await server.close();
  process.exit(0);
});
