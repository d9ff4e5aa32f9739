// The package's shape as users see it: every exports-map target exists, the declarations
// name the public API, and the browser entries' import graph never reaches Node-only code.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ConditionalExports, distFile, type ModuleTargets, pkg, repo } from './dist-helpers.js';

const browserSubpaths = ['.', './core', './websocket', './sse', './longpoll'];

/** Every module a dist ESM file reaches through static imports, and every bare specifier it names. */
function importGraph(entry: string): { files: string[]; specifiers: string[] } {
  const files = new Set<string>();
  const specifiers = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const code = readFileSync(file, 'utf8');
    for (const match of code.matchAll(
      /(?:^|[;\s])(?:import|export)\s*(?:[^'"]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
    )) {
      const specifier = (match[1] ?? match[2])!;
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier));
      else specifiers.add(specifier);
    }
  };
  visit(entry);
  return { files: [...files].map((file) => relative(repo, file)), specifiers: [...specifiers] };
}

describe('exports map', () => {
  it('is side-effect free, has a bin, and main/module/types point at built files', () => {
    expect(pkg.sideEffects).toBe(false);
    for (const file of [pkg.main, pkg.module, pkg.types, ...Object.values(pkg.bin)]) {
      expect(existsSync(join(repo, file)), `${file} exists`).toBe(true);
    }
  });

  const checkTargets = (targets: ModuleTargets) => {
    expect(Object.keys(targets)).toEqual(['import', 'require']);
    for (const condition of [targets.import, targets.require]) {
      expect(Object.keys(condition)).toEqual(['types', 'default']); // types first, or TypeScript skips it
      for (const file of [condition.types, condition.default]) distFile(file.replace(/^\.\/dist\//, ''));
    }
    // A CommonJS consumer gets .d.cts types: TypeScript reads a .d.ts in this ESM package as ESM.
    expect(targets.require.types).toMatch(/\.d\.cts$/);
  };

  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    const { development, ...production } = target;
    it(`"${subpath}" has import and require targets, each with its own types, that exist`, () => {
      checkTargets(production);
    });
    if (!browserSubpaths.includes(subpath)) continue;
    it(`"${subpath}" gives the development build first under "development", and production to everyone else`, () => {
      // First: a resolver takes the first condition it knows, so `development` must precede `import`.
      expect(Object.keys(target)[0]).toBe('development');
      checkTargets(development!);
      expect(development!.import.default).toMatch(/^\.\/dist\/dev\//);
      expect(production.import.default).not.toMatch(/\/dev\//);
      // Both builds declare the same API.
      expect(development!.import.types).toBe(production.import.types);
    });
  }

  for (const subpath of browserSubpaths) {
    it(`"${subpath}" never reaches node: modules, ws, ioredis or the server, in either build`, () => {
      const target = pkg.exports[subpath] as ConditionalExports;
      for (const entry of [target.import.default, target.development!.import.default]) {
        const { files, specifiers } = importGraph(join(repo, entry));
        expect(specifiers.filter((s) => s !== 'nanoevents')).toEqual([]);
        expect(files.filter((file) => /server|cli/.test(file))).toEqual([]);
      }
    });
  }

  it('"./testing" never loads @playwright/test (an optional peer); "./testing/playwright" does', () => {
    const graph = (subpath: string) => importGraph(join(repo, (pkg.exports[subpath] as ConditionalExports).import.default)).specifiers;
    expect(graph('./testing')).not.toContain('@playwright/test');
    expect(graph('./testing/playwright')).toContain('@playwright/test');
    expect(pkg.peerDependenciesMeta?.['@playwright/test']?.optional).toBe(true);
  });

  it('the import-graph check sees Node-only imports when they are there (it can fail)', () => {
    const { specifiers } = importGraph(distFile('server.js'));
    expect(specifiers.some((s) => s.startsWith('node:') || s === 'ws')).toBe(true);
  });

  it('the server and the CLI import no ioredis: an optional peer, loaded only when redisBroker is called', () => {
    for (const file of ['server.js', 'cli.js']) expect(importGraph(distFile(file)).specifiers, file).not.toContain('ioredis');
    const cjs = readFileSync(distFile('server.cjs'), 'utf8');
    expect(cjs).not.toMatch(/require\(\s*['"]ioredis['"]\s*\)/);
  });

  it('declarations name the public API of each entry', () => {
    const declares = (file: string, names: string[]) => {
      const text = readFileSync(distFile(file), 'utf8');
      for (const name of names) expect(text, `${file} declares ${name}`).toMatch(new RegExp(`\\b${name}\\b`));
    };
    declares('index.d.ts', ['createClient', 'LifelineError', 'ClientOptions']);
    declares('core.d.ts', ['createClient', 'LifelineError']);
    declares('websocket.d.ts', ['websocket', 'TransportFactory']);
    declares('sse.d.ts', ['sse']);
    declares('longpoll.d.ts', ['longpoll']);
    declares('testing.d.ts', ['createTestServer', 'TestServer', 'TestServerOptions', 'TestServerError']);
    declares('testing-playwright.d.ts', ['test', 'expect', 'LifelineFixtures', 'createTestServer']);
  });
});
