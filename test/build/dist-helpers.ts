// Shared by the dist-*.test.ts files: they read what `npm run build` wrote (scripts/test.js
// builds before vitest), never the sources, because dist/ is what users get.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';

/** The repository root (the `lifeline-rt` package). */
export const repo = resolve(import.meta.dirname, '..', '..');

/** An exports map target for `import` and for `require`: the types and the code. */
export interface ModuleTargets {
  import: { types: string; default: string };
  require: { types: string; default: string };
}

/** An exports map entry; browser entries add the development build under `development`. */
export interface ConditionalExports extends ModuleTargets {
  development?: ModuleTargets;
}

/** The package's own package.json. */
export const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  exports: Record<string, string | ConditionalExports>;
  main: string;
  module: string;
  types: string;
  sideEffects: unknown;
  bin: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

/** Absolute path of a built file; fails with a hint when the build has not run. */
export function distFile(name: string): string {
  const file = join(repo, 'dist', name);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first (npm test does)`);
  return file;
}

/** Brotli size at maximum quality, the number the budgets are written in. */
export function brotliSize(bytes: Uint8Array | string): number {
  const input = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  return brotliCompressSync(input, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: input.length,
    },
  }).length;
}

/** gzip -9 size, printed next to brotli for comparison with other libraries' numbers. */
export function gzipSize(bytes: Uint8Array | string): number {
  return gzipSync(typeof bytes === 'string' ? Buffer.from(bytes) : bytes, { level: 9 }).length;
}

/** Resolves `lifeline-rt` and `lifeline-rt/<entry>` through package.json's exports map, as a bundler would. */
const lifelineFromExportsMap: Plugin = {
  name: 'lifeline-exports-map',
  setup(b) {
    b.onResolve({ filter: /^lifeline-rt(\/.*)?$/ }, (args) => {
      const subpath = args.path === 'lifeline-rt' ? '.' : `.${args.path.slice('lifeline-rt'.length)}`;
      const target = pkg.exports[subpath];
      const file = typeof target === 'string' ? target : target?.import.default;
      if (!file) return { errors: [{ text: `package.json exports has no import target for "${subpath}"` }] };
      return { path: distFile(file.replace(/^\.\/dist\//, '')) };
    });
  },
};

/**
 * Bundles an application entry the way a browser app's bundler would (esbuild, minified,
 * browser platform), against the built dist through the exports map. Returns the code.
 */
export async function bundleConsumer(source: string): Promise<string> {
  const result = await build({
    stdin: { contents: source, resolveDir: repo, loader: 'js' },
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'browser',
    // The dist's own language level: the budget measures our code, not a bundler's down-levelling.
    target: 'es2022',
    legalComments: 'none',
    plugins: [lifelineFromExportsMap],
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** `1234` → `"1,234"`, for the size lines the tests print. */
export const bytes = (n: number): string => n.toLocaleString('en-US');
