// docs/testing.md's examples work for a user: a project in a temporary folder installs the
// packed tarball, copies the page's files (each ```ts block that starts with `// <path>`) as
// they are, and runs its own `npx playwright test` and `npx vitest run`. The Playwright
// example serves a page that loads the package's script tag, dist/lifeline.min.js.
//
// As in pack.test.ts, it packs with `--ignore-scripts` (dist/ is already built) and installs
// the tarball with npm (`--prefer-offline`: nanoevents and ws come from npm's cache when it
// has them). The test tools are not installed from the registry: @playwright/test, vitest and
// eventsource are symlinked from this repository's node_modules, with their bins, as if the
// user had installed them.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distFile, repo } from './dist-helpers.js';

const INSTALL_TIMEOUT = 120_000;
// A run normally takes 5 to 20 s; the bound only stops a hung one before the test's timeout.
const RUN_TIMEOUT = 150_000;

/** The files docs/testing.md gives in full, and how many tests each runner must find in them. */
const files = ['playwright.config.ts', 'vitest.config.ts', 'e2e/realtime.spec.ts', 'test/realtime.test.ts'];
const PLAYWRIGHT_TESTS = 6;
const VITEST_TESTS = 7;

/** Symlinked from the repository: the tools the examples use, which the tarball does not bring. */
const tools = ['@playwright/test', 'playwright', 'playwright-core', 'vitest', 'eventsource'];
const bins: Record<string, string> = { playwright: '@playwright/test/cli.js', vitest: 'vitest/vitest.mjs' };

// The children are a user's runs, not part of ours: no npm_* variables of an `npm test` around
// us (npm_config_local_prefix would point npm at this repository) and none of vitest's (a
// vitest started with VITEST_WORKER_ID set believes it is a worker).
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_|VITEST|TEST$|NODE_ENV$|INIT_CWD$)/i.test(key)));
// Debian's Chromium, as e2e/browser.ts picks it; the documented config reads CHROMIUM_PATH.
const chromium = process.env.LIFELINE_CHROMIUM ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

let work: string;
let project: string;

function run(command: string, args: string[], options: SpawnSyncOptions & { timeout: number }) {
  const result = spawnSync(command, args, { encoding: 'utf8', env, ...options });
  const output = `${command} ${args.join(' ')}\n${String(result.stdout)}\n${String(result.stderr)}`;
  expect(result.error, `${output}\n(did not finish in ${options.timeout} ms)`).toBeUndefined();
  return { status: result.status, stdout: String(result.stdout), output };
}

/** The ```ts blocks of docs/testing.md that start with `// <path>`, by path. */
function docExamples(): Map<string, string> {
  const text = readFileSync(join(repo, 'docs', 'testing.md'), 'utf8');
  return new Map([...text.matchAll(/```ts\n\/\/ (\S+)\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!]));
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(join(project, file), 'utf8'));

beforeAll(() => {
  distFile('lifeline.min.js'); // fails with the build hint when dist/ is missing
  distFile('testing-playwright.js');
  work = mkdtempSync(join(tmpdir(), 'lifeline-consumer-'));
  project = join(work, 'project');
  const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repo, timeout: 60_000 });
  expect(packed.status, packed.output).toBe(0);
  const [info] = JSON.parse(packed.stdout) as [{ filename: string }];

  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  const installed = run(
    'npm',
    ['install', join(work, info.filename), '--prefix', project, '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock'],
    { cwd: project, timeout: INSTALL_TIMEOUT },
  );
  expect(installed.status, installed.output).toBe(0);

  // After the install: npm would remove packages it did not put there.
  const modules = join(project, 'node_modules');
  for (const tool of tools) {
    mkdirSync(dirname(join(modules, tool)), { recursive: true });
    symlinkSync(realpathSync(join(repo, 'node_modules', tool)), join(modules, tool), 'dir');
  }
  mkdirSync(join(modules, '.bin'), { recursive: true });
  for (const [bin, target] of Object.entries(bins)) symlinkSync(join('..', target), join(modules, '.bin', bin));

  for (const [path, code] of docExamples()) {
    mkdirSync(join(project, dirname(path)), { recursive: true });
    writeFileSync(join(project, path), code);
  }
}, INSTALL_TIMEOUT + 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a consumer project with the examples of docs/testing.md', () => {
  it('the page gives every file of the project in full', () => {
    expect([...docExamples().keys()].sort()).toEqual([...files].sort());
  });

  it(
    `npx playwright test passes its ${PLAYWRIGHT_TESTS} tests against the script-tag page`,
    () => {
      const result = run('npx', ['--no', '--', 'playwright', 'test', '--reporter=json'], {
        cwd: project,
        timeout: RUN_TIMEOUT,
        env: { ...env, ...(chromium ? { CHROMIUM_PATH: chromium } : {}), PLAYWRIGHT_JSON_OUTPUT_NAME: 'playwright.json' },
      });
      expect(result.status, result.output).toBe(0);
      const { stats } = readJson('playwright.json') as { stats: Record<string, number> };
      expect(stats, result.output).toMatchObject({ expected: PLAYWRIGHT_TESTS, unexpected: 0, flaky: 0, skipped: 0 });
    },
    RUN_TIMEOUT + 10_000,
  );

  it(
    `npx vitest run passes its ${VITEST_TESTS} tests with the Node client`,
    () => {
      const result = run('npx', ['--no', '--', 'vitest', 'run', '--reporter=json', '--outputFile=vitest.json'], {
        cwd: project,
        timeout: RUN_TIMEOUT,
      });
      expect(result.status, result.output).toBe(0);
      const report = readJson('vitest.json') as Record<string, number>;
      expect(report, result.output).toMatchObject({
        numTotalTests: VITEST_TESTS,
        numPassedTests: VITEST_TESTS,
        numFailedTests: 0,
        numPendingTests: 0,
        numTodoTests: 0,
      });
    },
    RUN_TIMEOUT + 10_000,
  );
});
