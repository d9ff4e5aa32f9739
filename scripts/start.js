#!/usr/bin/env node
// `npm start`: build when dist/ lacks the CLI or the script-tag bundle, then run the server on
// $PORT (default 3000) with the demo page at / and dist/lifeline.min.js at /lifeline.min.js.
// Extra arguments go to the CLI: `npm start -- --api-key k`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = ['dist/cli.js', 'dist/lifeline.min.js'].every((file) => existsSync(new URL(`../${file}`, import.meta.url)));
if (!built) {
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
// The CLI reads process.argv when imported, and then owns SIGTERM/SIGINT in this process.
process.argv = [process.argv[0], process.argv[1], '--port', process.env.PORT || '3000', '--demo', ...process.argv.slice(2)];
await import('../dist/cli.js');
