// Bundles main.ts (TypeScript, which Node 20 cannot run) with esbuild into a directory under
// node_modules and runs it: from there, ioredis (an optional peer, loaded with require) resolves.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const dir = mkdtempSync(fileURLToPath(new URL('../../node_modules/.lifeline-bench-links-', import.meta.url)));
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
    // Named apart from createRequire, which the bundled sources import too.
    banner: {
      js: "import { createRequire as lifelineBannerRequire } from 'node:module'; const require = lifelineBannerRequire(import.meta.url);",
    },
    // The sources are the development build, as in the tests.
    define: { __DEV__: 'true' },
    logLevel: 'warning',
  });
  const { status } = spawnSync(process.execPath, [outfile], { stdio: 'inherit' });
  process.exitCode = status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
