// `npm run bench`: installs bench/'s peers if needed, builds dist/ from the current sources,
// then runs every `bench:*` script of the root package.json, one after another (they share
// two cores: never in parallel), except those in SKIP (long ones with their own command).
// BENCH_SKIP=a,b adds to the list; a failed benchmark is reported and the others still run.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuild, ensurePeers, root } from './lib/prepare.mjs';

/** Long-running benchmarks left out of `npm run bench`: run them by name. */
const SKIP = [
  'bench:soak',
  ...(process.env.BENCH_SKIP ?? '')
    .split(',')
    .filter(Boolean)
    .map((name) => (name.startsWith('bench:') ? name : `bench:${name}`)),
];

const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const names = Object.keys(scripts).filter((name) => name.startsWith('bench:') && !SKIP.includes(name));

ensurePeers();
ensureBuild({ force: true });

const outcomes = [];
for (const name of names) {
  console.log(`\n## npm run ${name}\n`);
  const started = Date.now();
  const { status } = spawnSync('npm', ['run', '--silent', name], { cwd: root, stdio: 'inherit' });
  outcomes.push({ name, status, seconds: Math.round((Date.now() - started) / 1000) });
}
console.log('\n## Summary\n');
for (const { name, status, seconds } of outcomes) console.log(`${status === 0 ? 'ok    ' : 'FAILED'} ${name} (${seconds} s)`);
if (SKIP.some((name) => scripts[name])) console.log(`skipped: ${SKIP.filter((name) => scripts[name]).join(', ')}`);
process.exitCode = outcomes.some(({ status }) => status !== 0) ? 1 : 0;
