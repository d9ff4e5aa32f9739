// A Lifeline node in a child process of its own, so a test can kill it with SIGKILL as a crash
// would: no cleanup code runs, the kernel closes its sockets. The entry point is bundled once
// per test process with esbuild (Node 20 cannot run TypeScript).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** A node running in its own process. */
export interface NodeProcess {
  url: string;
  port: number;
  /** Kills the process with SIGKILL and resolves once it is gone. */
  kill(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;
let bundled: Promise<string> | undefined;
let bundleDir: string | undefined;
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

const bundle = () => {
  bundled ??= (async () => {
    // Inside the repository, so that what the bundle loads at run time (ioredis, an optional
    // peer loaded with require) resolves from the project's node_modules.
    const dir = mkdtempSync(join(fileURLToPath(new URL('../../node_modules/', import.meta.url)), '.lifeline-node-'));
    bundleDir = dir;
    const outfile = join(dir, 'node.mjs');
    await build({
      entryPoints: [fileURLToPath(new URL('./node-main.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      // ws loads these optional native helpers only when present.
      external: ['bufferutil', 'utf-8-validate'],
      // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
      // (Named apart from createRequire, which bundled sources import too.)
      banner: {
        js: "import { createRequire as lifelineBannerRequire } from 'node:module'; const require = lifelineBannerRequire(import.meta.url);",
      },
      // The sources are the development build, as in vitest.
      define: { __DEV__: 'true' },
      logLevel: 'silent',
    });
    return outfile;
  })();
  return bundled;
};

/** Starts a node in a child process over Redis `url` with key prefix `keyPrefix`. */
export async function spawnNodeProcess(url: string, keyPrefix: string): Promise<NodeProcess> {
  const file = await bundle();
  const child = spawn(process.execPath, [file, url, keyPrefix], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`node process not listening after ${READY_TIMEOUT_MS} ms:\n${output}`)),
      READY_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = /listening (\d+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(Number(found[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`node process exited before listening:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}/rt`,
    port,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
