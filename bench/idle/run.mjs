// Heap and RSS per idle WebSocket: the Lifeline server against a bare `ws` server, each in its
// own process, with CONNECTIONS (default 10000) idle clients in a third; then Lifeline's SSE
// and long-poll connections (HTTP_CONNECTIONS, default 2000, each on a fresh server). Each server reports
// process.memoryUsage() after a full gc, before and after the clients connect; the figure per
// connection is the difference divided by the connections open. Prints a table and writes
// bench/results/idle.json. Run with `npm run bench:idle`. BREAKDOWN=1 also takes a heap
// snapshot of the Lifeline server before and after and prints what the connections added, by
// constructor (bytes per connection, self sizes): where the heap per connection goes.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10_000);
const BREAKDOWN = process.env.BREAKDOWN === '1';
/** Lifeline's SSE and long-poll connections, each measured on a fresh server (0 leaves them out). */
const HTTP_CONNECTIONS = Number(process.env.HTTP_CONNECTIONS ?? 2000);
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

/** Self sizes in a heap snapshot, summed by node type and name (constructor or function). */
function bySelfSize(path) {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(path, 'utf8'));
  const fields = snapshot.meta.node_fields;
  const types = snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field));
  const sums = new Map();
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + typeAt]];
    const name = type === 'string' || type === 'concatenated string' || type === 'sliced string' ? '(strings)' : strings[nodes[i + nameAt]];
    const key = `${type} ${name}`;
    sums.set(key, (sums.get(key) ?? 0) + nodes[i + sizeAt]);
  }
  return sums;
}

/** Asks the server for a heap snapshot in `dir`; resolves its path. */
async function snapshot(server, dir, name) {
  server.child.stdin.write(`snapshot ${join(dir, name)}\n`);
  return (await server.next()).path;
}

async function measure(bundle, kind, dir, transport = 'websocket', connections = CONNECTIONS) {
  const server = start(['--expose-gc', bundle, kind]);
  try {
    const { url, http } = await server.next();
    server.child.stdin.write('measure\n');
    const before = await server.next();
    const snapBefore = BREAKDOWN && transport === 'websocket' ? await snapshot(server, dir, `${kind}-before.heapsnapshot`) : undefined;
    const target = transport === 'websocket' ? url : http;
    const clients = start([here('./clients.mjs'), target, String(connections), '200', transport]);
    try {
      const { open, failed } = await clients.next();
      server.child.stdin.write('measure\n');
      const after = await server.next();
      let added;
      if (snapBefore) {
        const was = bySelfSize(snapBefore);
        added = new Map(
          [...bySelfSize(await snapshot(server, dir, `${kind}-after.heapsnapshot`))].map(([key, size]) => [
            key,
            (size - (was.get(key) ?? 0)) / open,
          ]),
        );
      }
      return {
        server: kind,
        transport,
        open,
        failed,
        heapPerConnection: (after.heapUsed - before.heapUsed) / open,
        rssPerConnection: (after.rss - before.rss) / open,
        added,
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
  for (const kind of ['ws', 'lifeline']) rows.push(await measure(bundle, kind, dir));
  const [raw, lifeline] = rows;
  if (HTTP_CONNECTIONS > 0)
    for (const transport of ['sse', 'longpoll']) rows.push(await measure(bundle, 'lifeline', dir, transport, HTTP_CONNECTIONS));
  const kib = (bytes) => (bytes / 1024).toFixed(2);
  console.log(
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}; ${CONNECTIONS} idle WebSockets per server` +
      (HTTP_CONNECTIONS > 0 ? `, ${HTTP_CONNECTIONS} SSE and ${HTTP_CONNECTIONS} long-poll connections on servers of their own` : ''),
  );
  console.log('');
  console.log('| server | transport | open | heap per connection, KiB | RSS per connection, KiB | heap ÷ raw ws |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const row of rows) {
    const ratio = row.transport === 'websocket' ? `${(row.heapPerConnection / raw.heapPerConnection).toFixed(2)}×` : '—';
    console.log(
      `| ${row.server} | ${row.transport} | ${row.open} | ${kib(row.heapPerConnection)} | ${kib(row.rssPerConnection)} | ${ratio} |`,
    );
  }
  if (BREAKDOWN) {
    // What the Lifeline server adds per connection beyond the bare ws server, by heap snapshot.
    const keys = [...new Set([...raw.added.keys(), ...lifeline.added.keys()])];
    const rowsBy = keys
      .map((key) => [key, raw.added.get(key) ?? 0, lifeline.added.get(key) ?? 0])
      .sort((a, b) => b[2] - b[1] - (a[2] - a[1]));
    console.log('');
    console.log(`Heap snapshots before and after ${CONNECTIONS} connections, self sizes, bytes per connection:`);
    console.log('');
    console.log('| node type and name | ws | lifeline | lifeline − ws |');
    console.log('|---|---:|---:|---:|');
    const cell = (bytes) => bytes.toFixed(0);
    for (const [key, ws, ll] of rowsBy.slice(0, 20))
      console.log(`| ${key.replaceAll('|', '\\|')} | ${cell(ws)} | ${cell(ll)} | ${cell(ll - ws)} |`);
    const sum = (row) => [...row.added.values()].reduce((total, bytes) => total + bytes, 0);
    console.log(`| all | ${cell(sum(raw))} | ${cell(sum(lifeline))} | ${cell(sum(lifeline) - sum(raw))} |`);
    for (const row of rows) delete row.added;
  }
  const ratio = lifeline.heapPerConnection / raw.heapPerConnection;
  console.log('');
  console.log(`goal heap per idle WebSocket ≤ 1.5× raw ws: ${ratio.toFixed(2)}× — ${ratio <= 1.5 ? 'met' : 'missed'}`);
  const results = here('../results/');
  mkdirSync(results, { recursive: true });
  writeFileSync(
    join(results, 'idle.json'),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, connections: CONNECTIONS, httpConnections: HTTP_CONNECTIONS, rows, ratio }, null, 2)}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
