// Heap and RSS per idle WebSocket: the Lifeline server against a bare `ws` server, each in its
// own process, with CONNECTIONS (default 10000) idle clients in a third. Each server reports
// process.memoryUsage() after a full gc, before and after the clients connect; the figure per
// connection is the difference divided by the connections open. Prints a table and writes
// bench/results/idle.json. Run with `npm run bench:idle`.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10_000);
const here = (path) => fileURLToPath(new URL(path, import.meta.url));

/** Runs `args` with node; resolves the child and a function that awaits its next JSON line. */
function start(args) {
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${args.join(' ')} exited before answering`);
    return JSON.parse(value);
  };
  return { child, next };
}

async function measure(bundle, kind) {
  const server = start(['--expose-gc', bundle, kind]);
  try {
    const { url } = await server.next();
    server.child.stdin.write('measure\n');
    const before = await server.next();
    const clients = start([here('./clients.mjs'), url, String(CONNECTIONS)]);
    try {
      const { open, failed } = await clients.next();
      server.child.stdin.write('measure\n');
      const after = await server.next();
      return {
        server: kind,
        open,
        failed,
        heapPerConnection: (after.heapUsed - before.heapUsed) / open,
        rssPerConnection: (after.rss - before.rss) / open,
        before,
        after,
      };
    } finally {
      clients.child.stdin.end();
      clients.child.kill();
    }
  } finally {
    server.child.kill();
  }
}

const dir = mkdtempSync(join(here('../../node_modules/'), '.lifeline-bench-idle-'));
try {
  const bundle = join(dir, 'server.mjs');
  await build({
    entryPoints: [here('./server.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: bundle,
    external: ['bufferutil', 'utf-8-validate'],
    banner: {
      js: "import { createRequire as lifelineBannerRequire } from 'node:module'; const require = lifelineBannerRequire(import.meta.url);",
    },
    define: { __DEV__: 'false' },
    logLevel: 'warning',
  });
  const rows = [];
  for (const kind of ['ws', 'lifeline']) rows.push(await measure(bundle, kind));
  const [raw, lifeline] = rows;
  const kib = (bytes) => (bytes / 1024).toFixed(2);
  console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}; ${CONNECTIONS} idle WebSockets per server`);
  console.log('');
  console.log('| server | open | heap per connection, KiB | RSS per connection, KiB | heap ÷ raw ws |');
  console.log('|---|---:|---:|---:|---:|');
  for (const row of rows) {
    const ratio = (row.heapPerConnection / raw.heapPerConnection).toFixed(2);
    console.log(`| ${row.server} | ${row.open} | ${kib(row.heapPerConnection)} | ${kib(row.rssPerConnection)} | ${ratio}× |`);
  }
  const ratio = lifeline.heapPerConnection / raw.heapPerConnection;
  console.log('');
  console.log(`goal heap per idle WebSocket ≤ 1.5× raw ws: ${ratio.toFixed(2)}× — ${ratio <= 1.5 ? 'met' : 'missed'}`);
  const results = here('../results/');
  mkdirSync(results, { recursive: true });
  writeFileSync(
    join(results, 'idle.json'),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, connections: CONNECTIONS, rows, ratio }, null, 2)}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
