// The tarball works: `npm pack`, install it into an empty project as a user would, then use
// every entry point (ESM and CommonJS), run the bin, and check what the install brought along.
//
// It packs with `--ignore-scripts`, so `prepack` (the build) does not run here: `npm test`
// built dist/ moments ago, a second build would cost seconds on a 2-core machine, and it would
// rewrite dist/ while the other test/build files read it in parallel. A test below checks that
// `prepack` is the build, which is what makes `npm pack` on a fresh clone complete.
//
// The install needs the registry for nanoevents and ws (`--prefer-offline` takes them from
// npm's cache when it has them) and is bounded by INSTALL_TIMEOUT.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distFile, repo } from './dist-helpers.js';

const INSTALL_TIMEOUT = 120_000;
// Each child normally takes well under a second; the bound only stops a hung one (a
// regression that started a server) before the test's own timeout.
const NODE_TIMEOUT = 15_000;

/** Every entry point, with a name each must export. */
const entries: [specifier: string, exported: string][] = [
  ['lifeline-rt', 'createClient'],
  ['lifeline-rt/core', 'createClient'],
  ['lifeline-rt/websocket', 'websocket'],
  ['lifeline-rt/sse', 'sse'],
  ['lifeline-rt/longpoll', 'longpoll'],
  ['lifeline-rt/server', 'createServer'],
];

// A child npm must not inherit the npm_* variables of an `npm test` around us: among them is
// npm_config_local_prefix, which would point its install at this repository.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== 'INIT_CWD'));

let work: string;
let project: string;
let tarball: string;
let packedFiles: string[];

function run(command: string, args: string[], options: SpawnSyncOptions & { timeout: number }) {
  const result = spawnSync(command, args, { encoding: 'utf8', env, ...options });
  const output = `${command} ${args.join(' ')}\n${String(result.stdout)}\n${String(result.stderr)}`;
  expect(result.error, `${output}\n(did not finish in ${options.timeout} ms)`).toBeUndefined();
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr), output };
}

/** Runs a script with node in the temporary project, so the package resolves as installed. */
function node(file: string, source: string) {
  writeFileSync(join(project, file), source);
  return run(process.execPath, [file], { cwd: project, timeout: NODE_TIMEOUT });
}

beforeAll(() => {
  distFile('cli.js'); // fails with the build hint when dist/ is missing
  work = mkdtempSync(join(tmpdir(), 'lifeline-pack-'));
  project = join(work, 'project');
  const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repo, timeout: 60_000 });
  expect(packed.status, packed.output).toBe(0);
  const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  tarball = join(work, info.filename);
  packedFiles = info.files.map((file) => file.path);

  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  const installed = run(
    'npm',
    ['install', tarball, '--prefix', project, '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock'],
    { cwd: project, timeout: INSTALL_TIMEOUT },
  );
  expect(installed.status, installed.output).toBe(0);
}, INSTALL_TIMEOUT + 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', { timeout: 60_000 }, () => {
  it('prepack is the build, so npm pack on a fresh clone packs a built package', () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.prepack).toBe('npm run build');
  });

  it('the tarball holds the build, the bin and the docs, and no sources or tests', () => {
    expect(tarball).toMatch(/lifeline-rt-\d+\.\d+\.\d+.*\.tgz$/);
    for (const file of [
      'package.json',
      'README.md',
      'CHANGELOG.md',
      'dist/index.js',
      'dist/server.cjs',
      'dist/cli.js',
      'dist/lifeline.min.js',
    ]) {
      expect(packedFiles, file).toContain(file);
    }
    expect(packedFiles, 'bin').toContain('bin/lifeline-server.js');
    expect(packedFiles.filter((file) => /^(src|test|e2e|bench|scripts)\//.test(file))).toEqual([]);
  });

  it('installs only nanoevents and ws beside it: no ioredis, no dev dependencies', () => {
    const lock = JSON.parse(readFileSync(join(project, 'node_modules', '.package-lock.json'), 'utf8')) as {
      packages: Record<string, unknown>;
    };
    expect(Object.keys(lock.packages).sort()).toEqual(['node_modules/lifeline-rt', 'node_modules/nanoevents', 'node_modules/ws']);
    expect(existsSync(join(project, 'node_modules', 'ioredis'))).toBe(false);
  });

  it('every entry point imports as ESM', () => {
    const result = node(
      'entries.mjs',
      `const out = {};
for (const specifier of ${JSON.stringify(entries.map(([s]) => s))}) out[specifier] = Object.keys(await import(specifier));
console.log(JSON.stringify(out));`,
    );
    expect(result.status, result.output).toBe(0);
    const exportsOf = JSON.parse(result.stdout) as Record<string, string[]>;
    for (const [specifier, exported] of entries) expect(exportsOf[specifier], specifier).toContain(exported);
  });

  it('every entry point requires as CommonJS', () => {
    const result = node(
      'entries.cjs',
      `const out = {};
for (const specifier of ${JSON.stringify(entries.map(([s]) => s))}) out[specifier] = Object.keys(require(specifier));
console.log(JSON.stringify(out));`,
    );
    expect(result.status, result.output).toBe(0);
    const exportsOf = JSON.parse(result.stdout) as Record<string, string[]>;
    for (const [specifier, exported] of entries) expect(exportsOf[specifier], specifier).toContain(exported);
  });

  // A round trip through the installed server and client, in each module system.
  const roundTrip = (imports: string) => `${imports}
const timer = setTimeout(() => { console.error('no round trip within 10 s'); process.exit(1); }, 10_000);
const server = createServer({});
const { url } = await server.listen(0, '127.0.0.1');
const client = createClient(url, { transports: ['longpoll'] });
const received = new Promise((resolve) => client.subscribe('chat').on('message', (data, meta) => resolve({ data, seq: meta.seq })));
const ack = await client.publish('chat', { text: 'hi' });
const message = await received;
client.close();
await server.close();
clearTimeout(timer);
console.log(JSON.stringify({ ack: ack.seq, message }));`;

  it('the installed client and server talk to each other (ESM)', () => {
    const result = node(
      'round-trip.mjs',
      roundTrip("import { createClient } from 'lifeline-rt'; import { createServer } from 'lifeline-rt/server';"),
    );
    expect(result.status, result.output).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ ack: 1, message: { data: { text: 'hi' }, seq: 1 } });
  });

  it('the installed client and server talk to each other (CommonJS)', () => {
    const source = roundTrip("const { createClient } = require('lifeline-rt'); const { createServer } = require('lifeline-rt/server');");
    const result = node('round-trip.cjs', `(async () => {\n${source}\n})().catch((error) => { console.error(error); process.exit(1); });`);
    expect(result.status, result.output).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ ack: 1, message: { data: { text: 'hi' }, seq: 1 } });
  });

  it('redisBroker without ioredis throws IOREDIS_MISSING naming `npm install ioredis` (ESM and CommonJS)', () => {
    const probe = (load: string) => `${load}
try { redisBroker({ url: 'redis://127.0.0.1:1' }); console.log('no error'); process.exit(0); }
catch (error) { console.log(JSON.stringify({ code: error.code, message: error.message })); }`;
    for (const [file, load] of [
      ['redis.mjs', "import { redisBroker } from 'lifeline-rt/server';"],
      ['redis.cjs', "const { redisBroker } = require('lifeline-rt/server');"],
    ] as const) {
      const result = node(file, probe(load));
      expect(result.status, result.output).toBe(0);
      const { code, message } = JSON.parse(result.stdout) as { code: string; message: string };
      expect(code, file).toBe('IOREDIS_MISSING');
      expect(message, file).toContain('npm install ioredis');
    }
  });

  it('npx lifeline-server --help prints the usage and exits 0', () => {
    // --no: never install a package of that name from the registry, the installed bin must answer;
    // --: the --help after it is the bin's, not npx's own.
    const result = run('npx', ['--no', '--', 'lifeline-server', '--help'], { cwd: project, timeout: NODE_TIMEOUT });
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toMatch(/^Usage: lifeline-server \[options\]/);
    expect(result.stdout).toContain('--redis <url>');
  });

  it('lifeline-server --redis without ioredis says to install it and exits 1', () => {
    const bin = join(project, 'node_modules', 'lifeline-rt', 'bin', 'lifeline-server.js');
    const result = run(process.execPath, [bin, '--port', '0', '--redis', 'redis://127.0.0.1:1'], { cwd: project, timeout: NODE_TIMEOUT });
    expect(result.status, result.output).toBe(1);
    expect(result.stderr).toContain('npm install ioredis');
  });
});
