// Bundles main.ts (TypeScript, which Node 20 cannot run) with esbuild into a directory under
// node_modules and runs it there, so ioredis (an optional peer, loaded with require) resolves.
// Arguments after `--` go to main.ts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const dir = mkdtempSync(fileURLToPath(new URL('../../node_modules/.lifeline-bench-micro-', import.meta.url)));
try {
  const outfile = join(dir, 'main.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./main.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    external: ['bufferutil', 'utf-8-validate'],
    banner: {
      js: "import { createRequire as lifelineBannerRequire } from 'node:module'; const require = lifelineBannerRequire(import.meta.url);",
    },
    // The production build of the server: what a deployment runs.
    define: { __DEV__: 'false' },
    logLevel: 'warning',
  });
  const { status } = spawnSync(process.execPath, ['--expose-gc', outfile, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_RESULTS: fileURLToPath(new URL('../results/', import.meta.url)) },
  });
  process.exitCode = status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
