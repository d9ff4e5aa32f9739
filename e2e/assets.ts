import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const page = join(root, 'e2e', 'page');

/** One file a test page needs. */
export interface Asset {
  type: string;
  body: string;
}

/** Test pages and scripts by URL path, all served from the page's own origin. */
export type Assets = ReadonlyMap<string, Asset>;

const html = (title: string, body: string): Asset => ({
  type: 'text/html; charset=utf-8',
  body: `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`,
});
const js = (body: string): Asset => ({ type: 'text/javascript; charset=utf-8', body });

const bundle = async (options: Parameters<typeof build>[0]) => {
  const result = await build({ ...options, bundle: true, write: false, target: 'es2022', logLevel: 'silent' });
  return result.outputFiles![0]!.text;
};

/**
 * Builds the test pages from the built package: `/e2e/index.html` loads `/lifeline.min.js`
 * (the production IIFE, byte for byte) with a script tag, `/e2e/dev.html` the same with
 * `/lifeline.js` (the development IIFE); `/e2e/spa.html` loads a small app that
 * imports `createClient` from 'lifeline-rt', resolved to dist/index.js (the ESM build) and
 * bundled here with esbuild as an application bundler would. `/e2e/away.html` is a plain
 * page to navigate to (back/forward cache tests).
 */
export async function buildAssets(): Promise<Assets> {
  const iife = join(root, 'dist', 'lifeline.min.js');
  const devIife = join(root, 'dist', 'lifeline.js');
  const esm = join(root, 'dist', 'index.js');
  for (const file of [iife, devIife, esm]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` before the e2e tests`);
  }
  const harness = await bundle({ entryPoints: [join(page, 'script-tag.ts')], format: 'iife' });
  const spa = await bundle({
    stdin: {
      contents:
        "import { createClient } from 'lifeline-rt'; import { installHarness } from './harness.ts'; installHarness(createClient, 'spa');",
      resolveDir: page,
      loader: 'ts',
    },
    alias: { 'lifeline-rt': esm },
    format: 'esm',
    minify: true,
  });
  return new Map([
    ['/lifeline.min.js', js(readFileSync(iife, 'utf8'))],
    ['/lifeline.js', js(readFileSync(devIife, 'utf8'))],
    ['/e2e/harness.js', js(harness)],
    ['/e2e/spa.js', js(spa)],
    ['/e2e/index.html', html('script tag', '<script src="/lifeline.min.js"></script><script src="/e2e/harness.js"></script>')],
    ['/e2e/dev.html', html('script tag, development build', '<script src="/lifeline.js"></script><script src="/e2e/harness.js"></script>')],
    ['/e2e/spa.html', html('spa', '<div id="app"></div><script type="module" src="/e2e/spa.js"></script>')],
    ['/e2e/away.html', html('away', '<p>another page</p>')],
  ]);
}
