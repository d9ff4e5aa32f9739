// docs/testing.md's Playwright and vitest examples, and their configs, type-check as a
// consumer's files against the published declarations, so the page can't drift from the kit's
// API. (consumer.test.ts runs them in a project that installed the packed tarball.)
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distFile, repo } from './dist-helpers.js';

const TYPECHECK_TIMEOUT = 90_000;
const examples = ['playwright.config.ts', 'vitest.config.ts', 'e2e/realtime.spec.ts', 'test/realtime.test.ts'];

let dir: string;

/** The ```ts blocks of docs/testing.md that start with `// <path>`, by path. */
function docExamples(): Map<string, string> {
  const text = readFileSync(join(repo, 'docs', 'testing.md'), 'utf8');
  return new Map([...text.matchAll(/```ts\n\/\/ (\S+)\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!]));
}

beforeAll(() => {
  distFile('testing.d.ts');
  // Inside the repository, so the examples' other imports (@playwright/test, vitest, ws,
  // eventsource) resolve from its node_modules; the package itself is installed by symlink
  // under its published name.
  dir = mkdtempSync(join(repo, '.docs-check-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repo, join(dir, 'node_modules', 'lifeline-rt'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  for (const [path, code] of docExamples()) {
    mkdirSync(join(dir, dirname(path)), { recursive: true });
    writeFileSync(join(dir, path), code);
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('docs/testing.md', () => {
  it('has the complete Playwright and vitest examples and their configs', () => {
    expect([...docExamples().keys()]).toEqual(examples);
  });

  it(
    'its examples type-check under moduleResolution "nodenext"',
    () => {
      const program = ts.createProgram(
        examples.map((path) => join(dir, path)),
        {
          strict: true,
          noEmit: true,
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.NodeNext,
          moduleResolution: ts.ModuleResolutionKind.NodeNext,
          lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
          types: ['node'],
          skipLibCheck: true,
        },
      );
      const problems = ts
        .getPreEmitDiagnostics(program)
        .map((d) => `${d.file ? `${d.file.fileName}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
      expect(problems).toEqual([]);
    },
    TYPECHECK_TIMEOUT,
  );
});
