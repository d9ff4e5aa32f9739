#!/usr/bin/env node
// Bundle sizes of Lifeline and its peers, each built the same way: a tiny entry that imports
// the client and keeps it alive, bundled by esbuild for the browser and minified, then
// measured raw, gzip -9 and brotli at quality 11. Lifeline is bundled from the built dist/
// through its package.json exports map, exactly as an application's bundler would see it.
//
// Usage: node bench/sizes/run.mjs [--json]   (run `npm run build` in the repo root first)
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const repoPackage = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));

/**
 * Each row: a label, the package whose version is reported, and the entry's source. An entry
 * assigns what it imports to a global so the minifier cannot drop it: an application keeps
 * exactly that much alive.
 */
const rows = [
  {
    label: 'lifeline-rt',
    pkg: 'lifeline-rt',
    source: "import { createClient } from 'lifeline-rt'; globalThis.bench = createClient;",
  },
  {
    label: 'lifeline-rt/core + lifeline-rt/websocket',
    pkg: 'lifeline-rt',
    source: [
      "import { createClient } from 'lifeline-rt/core';",
      "import { websocket } from 'lifeline-rt/websocket';",
      'globalThis.bench = (url) => createClient(url, { transports: [websocket] });',
    ].join('\n'),
  },
  { label: 'phoenix', pkg: 'phoenix', source: "import { Socket } from 'phoenix'; globalThis.bench = Socket;" },
  { label: 'engine.io-client', pkg: 'engine.io-client', source: "import { Socket } from 'engine.io-client'; globalThis.bench = Socket;" },
  { label: 'socket.io-client', pkg: 'socket.io-client', source: "import { io } from 'socket.io-client'; globalThis.bench = io;" },
  {
    label: '@microsoft/signalr',
    pkg: '@microsoft/signalr',
    source: "import { HubConnectionBuilder } from '@microsoft/signalr'; globalThis.bench = HubConnectionBuilder;",
  },
  { label: 'centrifuge', pkg: 'centrifuge', source: "import { Centrifuge } from 'centrifuge'; globalThis.bench = Centrifuge;" },
  { label: 'sockjs-client', pkg: 'sockjs-client', source: "import SockJS from 'sockjs-client'; globalThis.bench = SockJS;" },
  { label: 'pusher-js', pkg: 'pusher-js', source: "import Pusher from 'pusher-js'; globalThis.bench = Pusher;" },
  {
    label: 'reconnecting-websocket',
    pkg: 'reconnecting-websocket',
    source: "import ReconnectingWebSocket from 'reconnecting-websocket'; globalThis.bench = ReconnectingWebSocket;",
  },
  { label: 'partysocket', pkg: 'partysocket', source: "import { PartySocket } from 'partysocket'; globalThis.bench = PartySocket;" },
];

/** Resolves `lifeline-rt` and `lifeline-rt/<entry>` through the repo's exports map ("import" condition). */
const lifelineFromDist = {
  name: 'lifeline-from-dist',
  setup(b) {
    b.onResolve({ filter: /^lifeline-rt(\/.*)?$/ }, (args) => {
      const subpath = args.path === 'lifeline-rt' ? '.' : `.${args.path.slice('lifeline-rt'.length)}`;
      const target = repoPackage.exports?.[subpath]?.import?.default;
      if (!target) return { errors: [{ text: `lifeline-rt has no export "${subpath}"` }] };
      return { path: join(repo, target) };
    });
  },
};

function versionOf(pkg) {
  if (pkg === 'lifeline-rt') return repoPackage.version;
  return JSON.parse(readFileSync(join(here, 'node_modules', pkg, 'package.json'), 'utf8')).version;
}

async function bundle(source) {
  const result = await build({
    stdin: { contents: source, resolveDir: here, loader: 'js' },
    bundle: true,
    write: false,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    plugins: [lifelineFromDist],
    logLevel: 'silent',
  });
  return result.outputFiles[0].contents;
}

function measure(bytes) {
  return {
    min: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }).length,
  };
}

if (!existsSync(join(repo, 'dist', 'index.js'))) {
  console.error('bench/sizes: dist/ is missing; run `npm run build` in the repository root first');
  process.exit(1);
}
if (!existsSync(join(here, 'node_modules'))) {
  console.error('bench/sizes: run `npm install` (or `npm ci`) in bench/sizes first');
  process.exit(1);
}

const results = [];
for (const row of rows) {
  try {
    results.push({ ...row, version: versionOf(row.pkg), ...measure(await bundle(row.source)) });
  } catch (error) {
    results.push({ ...row, version: versionOf(row.pkg), error: String(error.message ?? error).split('\n')[0] });
  }
}
// The file a script tag loads, as shipped (rollup + terser), for reference next to the esbuild rows.
const shipped = {
  label: 'dist/lifeline.min.js (as shipped)',
  version: repoPackage.version,
  ...measure(readFileSync(join(repo, 'dist', 'lifeline.min.js'))),
};
results.splice(2, 0, shipped);

if (process.argv.includes('--json')) {
  console.log(
    JSON.stringify(
      results.map(({ source, ...rest }) => rest),
      null,
      2,
    ),
  );
  process.exit(0);
}

const base = results[0];
const ratio = (value, reference) => (reference ? `${(value / reference).toFixed(2)}×` : '');
const lines = [
  '| package | version | min | gzip | brotli | min ÷ lifeline-rt | brotli ÷ lifeline-rt |',
  '|---|---|---:|---:|---:|---:|---:|',
];
for (const r of results) {
  if (r.error) {
    lines.push(`| ${r.label} | ${r.version} | build failed: ${r.error} | | | | |`);
    continue;
  }
  lines.push(
    `| ${r.label} | ${r.version} | ${r.min.toLocaleString('en-US')} | ${r.gzip.toLocaleString('en-US')} | ` +
      `${r.brotli.toLocaleString('en-US')} | ${ratio(r.min, base.min)} | ${ratio(r.brotli, base.brotli)} |`,
  );
}
console.log(lines.join('\n'));
console.log(`\nesbuild ${(await import('esbuild')).version}, browser, es2020, minified; gzip -9; brotli q11. Bytes.`);
