// Importing Lifeline has no side effects (DESIGN: SSR-safe, `sideEffects: false`): in a
// Node process without `window`, each browser entry loads through the package's exports map
// without reading or writing any browser global, scheduling anything or adding globals, and
// the process then exits by itself.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { distFile, repo } from './dist-helpers.js';

const browserEntries = ['lifeline-rt', 'lifeline-rt/core', 'lifeline-rt/websocket', 'lifeline-rt/sse', 'lifeline-rt/longpoll'];

// Globals a browser SDK could reach for at import time. Each becomes an accessor that records
// any read or write, then behaves as before.
const watched = [
  'window',
  'self',
  'document',
  'location',
  'navigator',
  'localStorage',
  'sessionStorage',
  'addEventListener',
  'removeEventListener',
  'WebSocket',
  'EventSource',
  'fetch',
  'XMLHttpRequest',
  'setTimeout',
  'setInterval',
  'queueMicrotask',
  'requestAnimationFrame',
  'crypto',
];

/** Child-process probe: loads `specifier` (import or require) and prints what it touched. */
const probe = (specifier: string, how: 'import' | 'require') => `
const watched = ${JSON.stringify(watched)};
const touched = new Set();
for (const name of watched) {
  const own = Object.getOwnPropertyDescriptor(globalThis, name);
  let value = own ? ('value' in own ? own.value : own.get.call(globalThis)) : undefined;
  Object.defineProperty(globalThis, name, {
    configurable: true,
    get() { touched.add(name); return value; },
    set(v) { touched.add(name + '='); value = v; },
  });
}
const before = new Set(Reflect.ownKeys(globalThis));
const { createRequire } = await import('node:module');
const mod = ${how === 'import' ? `await import(${JSON.stringify(specifier)})` : `createRequire(process.cwd() + '/package.json')(${JSON.stringify(specifier)})`};
const added = Reflect.ownKeys(globalThis).filter((key) => !before.has(key)).map(String);
process.stdout.write(JSON.stringify({ touched: [...touched], added, exports: Object.keys(mod).sort() }));
`;

function load(specifier: string, how: 'import' | 'require') {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', probe(specifier, how)], {
    cwd: repo, // the package resolves itself by name through its exports map from here
    encoding: 'utf8',
    timeout: 15_000,
  });
  expect(result.error, `${how} ${specifier}: the process did not exit by itself`).toBeUndefined();
  expect(result.status, `${how} ${specifier} failed:\n${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout) as { touched: string[]; added: string[]; exports: string[] };
}

describe('side-effect-free import', () => {
  // Fails first with a build hint rather than a resolution error in every child process.
  it('has a build to test', () => {
    for (const file of ['index.js', 'core.js', 'index.cjs', 'lifeline.min.js']) distFile(file);
  });

  for (const specifier of browserEntries) {
    for (const how of ['import', 'require'] as const) {
      it(`${how}('${specifier}') in Node touches no globals and leaves nothing running`, () => {
        const { touched, added, exports } = load(specifier, how);
        expect(touched).toEqual([]);
        expect(added).toEqual([]);
        expect(exports.length).toBeGreaterThan(0);
      });
    }
  }

  it("import('lifeline-rt') offers createClient and LifelineError; each transport entry its factory", () => {
    expect(load('lifeline-rt', 'import').exports).toEqual(expect.arrayContaining(['createClient', 'LifelineError']));
    expect(load('lifeline-rt/core', 'import').exports).toEqual(expect.arrayContaining(['createClient', 'LifelineError']));
    for (const name of ['websocket', 'sse', 'longpoll']) expect(load(`lifeline-rt/${name}`, 'import').exports).toContain(name);
  });

  it("import('lifeline-rt/server') starts nothing: the process exits by itself", () => {
    const { exports } = load('lifeline-rt/server', 'import');
    expect(exports.length).toBeGreaterThan(0);
  });

  for (const how of ['import', 'require'] as const) {
    it(`${how}('lifeline-rt/testing') and ('lifeline-rt/testing/playwright') start nothing: the process exits by itself`, () => {
      expect(load('lifeline-rt/testing', how).exports).toEqual(expect.arrayContaining(['createTestServer', 'TestServerError']));
      expect(load('lifeline-rt/testing/playwright', how).exports).toEqual(expect.arrayContaining(['test', 'expect', 'createTestServer']));
    });
  }

  it('dist/lifeline.min.js defines window.Lifeline and nothing else', () => {
    const sandbox: Record<string, unknown> = {};
    sandbox.window = sandbox;
    runInNewContext(readFileSync(distFile('lifeline.min.js'), 'utf8'), sandbox);
    expect(Object.keys(sandbox).sort()).toEqual(['Lifeline', 'window']);
    const lifeline = sandbox.Lifeline as Record<string, unknown>;
    for (const name of ['createClient', 'websocket', 'sse', 'longpoll', 'LifelineError']) {
      expect(typeof lifeline[name], `Lifeline.${name}`).toBe('function');
    }
  });
});
