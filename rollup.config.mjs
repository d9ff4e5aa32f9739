import terser from '@rollup/plugin-terser';
import { dts } from 'rollup-plugin-dts';
import esbuild from 'rollup-plugin-esbuild';

// Browser-safe entry points: they must never reach node: modules or src/server.
const browserEntries = ['index', 'core', 'websocket', 'sse', 'longpoll'];
// Node-only entry points.
const nodeEntries = ['server', 'cli'];

const input = Object.fromEntries([...browserEntries, ...nodeEntries].map((name) => [name, `src/${name}.ts`]));
const external = (id) => /^(node:|ws$|ioredis$|nanoevents$)/.test(id);

export default [
  {
    input,
    external,
    plugins: [esbuild({ target: 'es2022' })],
    output: [
      { dir: 'dist', format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      { dir: 'dist', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs' },
    ],
  },
  {
    // The script-tag build: everything in one file, `window.Lifeline`.
    input: 'src/index.ts',
    plugins: [esbuild({ target: 'es2020' })],
    output: {
      file: 'dist/lifeline.min.js',
      format: 'iife',
      name: 'Lifeline',
      plugins: [terser({ compress: { passes: 2 }, mangle: { properties: false } })],
    },
  },
  {
    input: Object.fromEntries([...browserEntries, 'server'].map((name) => [name, `src/${name}.ts`])),
    external,
    plugins: [dts()],
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].d.ts', chunkFileNames: 'chunks/[name]-[hash].d.ts' },
  },
];
