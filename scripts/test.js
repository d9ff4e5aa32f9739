#!/usr/bin/env node
// The whole test command: build, typecheck, lint and format check, vitest (unit, build,
// integration), Playwright (e2e).
// Each runner writes a JSON report; the last line printed is "N passed, N failed" summed
// over all of them, which is what CI reads.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const out = join(process.cwd(), 'test-results');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

let passed = 0;
let failed = 0;

function step(name, command, args) {
  console.log(`\n=== ${name}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) console.log(`=== ${name} exited with ${result.status ?? result.signal}`);
  return result.status === 0;
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

// A build, typecheck or lint failure counts as one failed check: nothing after it can be trusted.
for (const [name, args] of [
  ['build', ['run', 'build']],
  ['typecheck', ['run', 'typecheck']],
  ['lint', ['run', 'lint']],
]) {
  if (step(name, 'npm', args)) passed++;
  else failed++;
}

const vitestFile = join(out, 'vitest.json');
const vitestOk = step('vitest', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestFile}`]);
const vitest = readJson(vitestFile);
if (vitest) {
  passed += vitest.numPassedTests;
  // Skipped or todo tests would hide what they were meant to check: they count as failures.
  failed += vitest.numFailedTests + (vitest.numPendingTests ?? 0) + (vitest.numTodoTests ?? 0) + (vitest.numTotalTests === 0 ? 1 : 0);
  // A suite that failed to load has no failed tests but must not pass silently.
  if (!vitestOk && vitest.numFailedTests === 0) failed++;
} else failed++;

const playwrightFile = join(out, 'playwright.json');
const playwrightOk = step('playwright', 'npx', ['playwright', 'test']);
const playwright = readJson(playwrightFile);
if (playwright?.stats) {
  const { expected = 0, unexpected = 0, flaky = 0, skipped = 0 } = playwright.stats;
  passed += expected + flaky;
  // Skipped e2e tests would hide a missing browser: count them as failures.
  failed += unexpected + skipped + (expected + unexpected + flaky === 0 ? 1 : 0);
  if (!playwrightOk && unexpected === 0) failed++;
} else failed++;

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
