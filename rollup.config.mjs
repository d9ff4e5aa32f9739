// The build: ESM and CJS per entry point, the script-tag IIFE, and bundled declarations.
// Browser entries and Node entries are separate builds, so no chunk is ever shared between
// them and a guard can fail the build the moment a browser entry reaches Node-only code.
import { readdirSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import terser from '@rollup/plugin-terser';
import { dts } from 'rollup-plugin-dts';
import esbuild from 'rollup-plugin-esbuild';

// Browser-safe entry points (browser, worker, Node ≥ 20).
const browserEntries = ['index', 'core', 'websocket', 'sse', 'longpoll'];
const src = resolve('src');
const entriesOf = (names) => Object.fromEntries(names.map((name) => [name, `src/${name}.ts`]));

const nodeBuiltins = new Set(builtinModules);
const nodeOnlyPackages = new Set(['ws', 'ioredis', '@playwright/test']);
const nodeOnlyFiles = new Set(['server.ts', 'cli.ts', 'testing.ts', 'testing-playwright.ts'].map((file) => join(src, file)));
// Node-only entries: the server, and the testing kit with its Playwright fixture (bin/lifeline-server.js imports dist/cli.js).
const nodeEntries = ['server', 'testing', 'testing-playwright'];
const nodeExternal = /^(ws|ioredis|nanoevents|@playwright\/test)(\/|$)/;

/** Fails the build when a browser entry imports a Node builtin, a Node-only package or src/server. */
function browserOnly() {
  return {
    name: 'lifeline-browser-only',
    resolveId(source, importer) {
      if (source.startsWith('node:') || nodeBuiltins.has(source) || nodeOnlyPackages.has(source)) {
        this.error(`browser build reaches Node-only "${source}" from ${importer ?? 'an entry'}`);
      }
      return null;
    },
    load(id) {
      if (id.startsWith(join(src, 'server') + sep) || id.startsWith(join(src, 'testing') + sep) || nodeOnlyFiles.has(id)) {
        this.error(`browser build reaches Node-only module ${id}`);
      }
      return null;
    },
  };
}

/** Resolves bare package imports that a build inlines (nanoevents), through Node's own resolver. */
function inlinePackages(names) {
  return {
    name: 'lifeline-inline-packages',
    resolveId(source) {
      return names.includes(source) ? fileURLToPath(import.meta.resolve(source)) : null;
    },
  };
}

// Every file the builds below write under dist/chunks; the last build deletes the rest, so hashed
// chunks from earlier builds don't pile up (and nothing is missing mid-build for a running test).
const emittedChunks = new Set();
function recordChunks() {
  return {
    name: 'lifeline-record-chunks',
    writeBundle(_options, bundle) {
      for (const fileName of Object.keys(bundle)) if (fileName.startsWith('chunks/')) emittedChunks.add(fileName.slice(7));
    },
  };
}
function pruneStaleChunks() {
  return {
    name: 'lifeline-prune-chunks',
    closeBundle() {
      let files = [];
      try {
        files = readdirSync('dist/chunks');
      } catch {
        return;
      }
      for (const file of files) if (!emittedChunks.has(file)) rmSync(join('dist/chunks', file), { force: true });
    },
  };
}

/**
 * The script tag's entry: `lifeline` plus the transport factories, so a page can also build
 * à-la-carte clients (`Lifeline.createClient(url, { transports: [Lifeline.websocket] })`).
 */
const scriptTagId = '\0lifeline-script-tag';
const scriptTagEntry = {
  name: 'lifeline-script-tag-entry',
  resolveId(source) {
    return source === scriptTagId ? source : null;
  },
  load(id) {
    if (id !== scriptTagId) return null;
    const from = (name) => JSON.stringify(join(src, `${name}.ts`));
    return [
      `export * from ${from('index')};`,
      `export { websocket } from ${from('websocket')};`,
      `export { sse } from ${from('sse')};`,
      `export { longpoll } from ${from('longpoll')};`,
    ].join('\n');
  },
};

const chunkOutput = (format, extension) => ({
  dir: 'dist',
  format,
  entryFileNames: `[name].${extension}`,
  chunkFileNames: `chunks/[name]-[hash].${extension}`,
  generatedCode: 'es2015',
  ...(format === 'cjs' ? { exports: 'named' } : {}),
});

// Script-tag build: minified for bytes on the wire, and the wire is brotli, so options are
// chosen by brotli size (q11), not raw size: the two disagree (extra passes shave raw bytes and
// can cost brotli bytes). Measured on this code, three passes with the unsafe_* rewrites below
// were smallest; each only assumes what holds in our sources: getters without side effects, no
// function used as a constructor or for its prototype, comparisons between plain numbers and
// strings. `toplevel` stays off: it would drop the `var Lifeline` that the IIFE assigns.
const minify = terser({
  ecma: 2020,
  module: false,
  compress: {
    ecma: 2020,
    passes: 3,
    pure_getters: true,
    unsafe: true,
    unsafe_arrows: true,
    unsafe_comps: true,
    unsafe_methods: true,
    unsafe_symbols: true,
  },
  format: { comments: false, ecma: 2020 },
});

export default [
  {
    // Browser entries, ESM: nanoevents stays an import so an application's bundler shares one copy.
    input: entriesOf(browserEntries),
    external: ['nanoevents'],
    plugins: [browserOnly(), esbuild({ target: 'es2022' }), recordChunks()],
    output: chunkOutput('es', 'js'),
  },
  {
    // Browser entries, CJS for Node consumers that `require()`: nanoevents is ESM-only, so it is inlined.
    input: entriesOf(browserEntries),
    plugins: [browserOnly(), inlinePackages(['nanoevents']), esbuild({ target: 'es2022' }), recordChunks()],
    output: chunkOutput('cjs', 'cjs'),
  },
  {
    // Node entries, ESM, and the CLI.
    input: entriesOf([...nodeEntries, 'cli']),
    external: (id) => id.startsWith('node:') || nodeBuiltins.has(id) || nodeExternal.test(id),
    plugins: [esbuild({ target: 'es2022' }), recordChunks()],
    output: chunkOutput('es', 'js'),
  },
  {
    // Node entries as CJS for `require()`; the CLI needs none.
    input: entriesOf(nodeEntries),
    external: (id) => id.startsWith('node:') || nodeBuiltins.has(id) || /^(ws|ioredis|@playwright\/test)(\/|$)/.test(id),
    plugins: [inlinePackages(['nanoevents']), esbuild({ target: 'es2022' }), recordChunks()],
    output: chunkOutput('cjs', 'cjs'),
  },
  {
    // The script-tag build: everything in one file, `window.Lifeline`.
    input: scriptTagId,
    plugins: [
      scriptTagEntry,
      browserOnly(),
      inlinePackages(['nanoevents']),
      // ES2020 for older browsers, nanoevents included. Class fields are assigned rather than
      // defined (nothing here shadows an accessor), which spares the down-levelling helper.
      esbuild({
        target: 'es2020',
        exclude: [],
        tsconfigRaw: { compilerOptions: { useDefineForClassFields: false, verbatimModuleSyntax: true } },
      }),
    ],
    output: { file: 'dist/lifeline.min.js', format: 'iife', name: 'Lifeline', plugins: [minify] },
  },
  {
    // One bundled .d.ts per entry (shared types in dist/chunks); runs last, so it also prunes stale chunks.
    input: entriesOf([...browserEntries, ...nodeEntries]),
    external: (id) => id.startsWith('node:') || nodeBuiltins.has(id) || nodeExternal.test(id),
    plugins: [dts(), recordChunks(), pruneStaleChunks()],
    // .d.ts for `import`, .d.cts for `require`: in a `"type": "module"` package TypeScript reads a
    // .d.ts as ESM, which a CommonJS consumer under node16 resolution may not `require`.
    output: [
      { dir: 'dist', format: 'es', entryFileNames: '[name].d.ts', chunkFileNames: 'chunks/[name]-[hash].d.ts' },
      { dir: 'dist', format: 'es', entryFileNames: '[name].d.cts', chunkFileNames: 'chunks/[name]-[hash].d.cts' },
    ],
  },
];
