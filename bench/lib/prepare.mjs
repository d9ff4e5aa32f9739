// What every benchmark needs before it starts: the peers in bench/node_modules (installed from
// bench/package-lock.json) and a dist/ built from the current sources (the page loads
// dist/lifeline.min.js, the servers import dist/server.js).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const benchDir = join(root, 'bench');

function run(command, args) {
  const { status } = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${status}`);
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Installs bench/'s peers when missing. */
export function ensurePeers() {
  if (existsSync(join(benchDir, 'node_modules', 'socket.io', 'package.json'))) return;
  console.error('bench: installing the peers (npm --prefix bench ci)');
  run('npm', ['--prefix', 'bench', 'ci', '--no-audit', '--no-fund']);
}

/** Builds dist/ when it is missing or older than any file under src/. */
export function ensureBuild({ force = false } = {}) {
  const marker = join(root, 'dist', 'lifeline.min.js');
  if (!force && existsSync(marker) && statSync(marker).mtimeMs >= newestMtime(join(root, 'src'))) return;
  console.error('bench: building dist/ (npm run build)');
  run('npm', ['run', 'build', '--silent']);
}

/** Both of the above. */
export function prepare() {
  ensurePeers();
  ensureBuild();
}
