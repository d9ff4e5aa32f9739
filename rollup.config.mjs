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
const nodeOnlyPackages = new Set(['ws', 'ioredis']);
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

// Every chunk the builds below write (under dist/chunks and dist/dev/chunks); the last build
// deletes the rest, so hashed chunks from earlier builds don't pile up (and nothing is missing
// mid-build for a running test).
const chunkDirs = ['dist/chunks', 'dist/dev/chunks'];
const emittedChunks = new Set();
function recordChunks(dir) {
  return {
    name: 'lifeline-record-chunks',
    writeBundle(_options, bundle) {
      for (const fileName of Object.keys(bundle)) if (fileName.startsWith('chunks/')) emittedChunks.add(`${dir}/${fileName}`);
    },
  };
}
function pruneStaleChunks() {
  return {
    name: 'lifeline-prune-chunks',
    closeBundle() {
      for (const dir of chunkDirs) {
        let files = [];
        try {
          files = readdirSync(dir);
        } catch {
          continue;
        }
        for (const file of files) if (!emittedChunks.has(`${dir}/${file}`)) rmSync(join(dir, file), { force: true });
      }
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

const chunkOutput = (format, extension, dir = 'dist') => ({
  dir,
  format,
  entryFileNames: `[name].${extension}`,
  chunkFileNames: `chunks/[name]-[hash].${extension}`,
  generatedCode: 'es2015',
  ...(format === 'cjs' ? { exports: 'named' } : {}),
});

/**
 * TypeScript through esbuild, with `__DEV__` replaced: `true` in the development build, which
 * keeps every explanation and warning, `false` in production, where the `if (__DEV__)` branches
 * and the `__DEV__ && ...` sentences are dead code and dropped.
 */
const typescript = (dev, options = {}) =>
  esbuild({
    target: 'es2022',
    // Class fields are assigned in the constructor rather than defined (nothing here shadows an
    // accessor), which spares the field declarations.
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: false, verbatimModuleSyntax: true } },
    ...options,
    define: { __DEV__: String(dev) },
  });

/** The browser entries as ESM (nanoevents stays an import, so an app's bundler shares one copy) and CJS (nanoevents inlined: it is ESM-only). */
const browserBuilds = (dev) => {
  const dir = dev ? 'dist/dev' : 'dist';
  return [
    {
      input: entriesOf(browserEntries),
      external: ['nanoevents'],
      plugins: [browserOnly(), typescript(dev), recordChunks(dir)],
      output: { ...chunkOutput('es', 'js', dir), plugins: dev ? [] : [minifyModule] },
    },
    {
      input: entriesOf(browserEntries),
      plugins: [browserOnly(), inlinePackages(['nanoevents']), typescript(dev), recordChunks(dir)],
      output: chunkOutput('cjs', 'cjs', dir),
    },
  ];
};

/** The script tag's file, `window.Lifeline`: everything in one file. */
const scriptTagBuild = (dev) => ({
  input: scriptTagId,
  plugins: [
    scriptTagEntry,
    browserOnly(),
    inlinePackages(['nanoevents']),
    // ES2020 for older browsers, nanoevents included.
    typescript(dev, { target: 'es2020', exclude: [] }),
  ],
  output: dev
    ? { file: 'dist/lifeline.js', format: 'iife', name: 'Lifeline' }
    : { file: 'dist/lifeline.min.js', format: 'iife', name: 'Lifeline', plugins: [minify] },
});

// Script-tag build: minified for bytes on the wire, and the wire is brotli, so options are
// chosen by brotli size (q11), not raw size: the two disagree (extra passes shave raw bytes and
// can cost brotli bytes). Measured on this code, three passes with the unsafe_* rewrites below
// were smallest; each only assumes what holds in our sources: getters without side effects, no
// function used as a constructor or for its prototype, comparisons between plain numbers and
// strings. `toplevel` stays off: it would drop the `var Lifeline` that the IIFE assigns.
const compress = {
  ecma: 2020,
  passes: 3,
  pure_getters: true,
  unsafe: true,
  unsafe_arrows: true,
  unsafe_comps: true,
  unsafe_methods: true,
  unsafe_symbols: true,
};
// The client's internal property names, which never cross the public API: both production
// builds shorten them. `builtins`: names that DOM objects also have (`pending`) are shortened
// too, which the list makes safe.
const internalNames = [
  'endReason',
  'receivedAt',
  'sentAt',
  'pending',
  'nextId',
  'settle',
  'rejectAll',
  'resumeFrames',
  'connectOrder',
  'probeOrder',
  'adopted',
  'probeFailed',
  'flapped',
  'negotiation',
  'problem',
  'frames',
  'handle',
  'frame',
];
const mangleNames = (names) => ({ properties: { builtins: true, regex: new RegExp(`^(${names.join('|')})$`) } });

const minify = terser({
  ecma: 2020,
  module: false,
  compress,
  // The script tag is one file, so it also shortens what only the bundle itself touches there:
  // `events` (nanoevents' listener table) and the transport interface.
  mangle: mangleNames([...internalNames, 'events', 'transportName', 'onMessage', 'onClose']),
  format: { comments: false, ecma: 2020 },
});

// The production ESM build is minified too: an application's bundler minifies again, but it
// cannot do what terser does here with knowledge of our sources (the unsafe_* rewrites above).
// Internal property names are shortened as in the script tag; the plugin minifies the chunks
// one after another through one `nameCache`, so a name is shortened alike in every chunk. Not
// here: `events` (nanoevents stays a separate package in the ESM) and the transport interface
// (`transportName`, `onMessage`, `onClose`), which custom and testing-kit transports implement.
const minifyModule = terser({
  ecma: 2020,
  module: true,
  compress,
  mangle: mangleNames(internalNames),
  nameCache: {},
  format: { comments: false, ecma: 2020 },
});

export default [
  // Production first: it is what an unconfigured consumer gets.
  ...browserBuilds(false),
  ...browserBuilds(true),
  {
    // Node entries, ESM: the server and the CLI (bin/lifeline-server.js imports dist/cli.js).
    input: entriesOf([...nodeEntries, 'cli']),
    external: (id) => id.startsWith('node:') || nodeBuiltins.has(id) || nodeExternal.test(id),
    plugins: [typescript(true), recordChunks('dist')],
    output: chunkOutput('es', 'js'),
  },
  {
    // The Node entries as CJS for `require()`; the CLI needs none.
    input: entriesOf(nodeEntries),
    external: (id) => id.startsWith('node:') || nodeBuiltins.has(id) || /^(ws|ioredis|@playwright\/test)(\/|$)/.test(id),
    plugins: [inlinePackages(['nanoevents']), typescript(true), recordChunks('dist')],
    output: chunkOutput('cjs', 'cjs'),
  },
  scriptTagBuild(false),
  scriptTagBuild(true),
  {
    // One bundled .d.ts per entry (shared types in dist/chunks; both builds share them); runs
    // last, so it also prunes stale chunks.
    input: entriesOf([...browserEntries, ...nodeEntries]),
    external: (id) => id.startsWith('node:') || nodeBuiltins.has(id) || nodeExternal.test(id),
    plugins: [dts(), recordChunks('dist'), pruneStaleChunks()],
    // .d.ts for `import`, .d.cts for `require`: in a `"type": "module"` package TypeScript reads a
    // .d.ts as ESM, which a CommonJS consumer under node16 resolution may not `require`.
    output: [
      { dir: 'dist', format: 'es', entryFileNames: '[name].d.ts', chunkFileNames: 'chunks/[name]-[hash].d.ts' },
      { dir: 'dist', format: 'es', entryFileNames: '[name].d.cts', chunkFileNames: 'chunks/[name]-[hash].d.cts' },
    ],
  },
];
