// The bundled declarations work for a TypeScript consumer that installs the package: every
// entry resolves through the exports map under both `bundler` and `nodenext` resolution, the
// public API is typed (not `any`), and wrong calls are type errors.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distFile, repo } from './dist-helpers.js';

// `@ts-expect-error` lines fail the compile if the API were untyped, so the check can fail.
const consumer = `
import { createClient, LifelineError, type Client, type ClientState } from 'lifeline-rt';
import { createClient as createCore } from 'lifeline-rt/core';
import { websocket } from 'lifeline-rt/websocket';
import { sse } from 'lifeline-rt/sse';
import { longpoll } from 'lifeline-rt/longpoll';
import { createServer } from 'lifeline-rt/server';

const client: Client = createClient('https://example.test/rt', { transports: ['websocket', 'longpoll'], reconnect: { maxDelay: 5000 } });
const core: Client = createCore('https://example.test/rt', { transports: [websocket, sse, longpoll] });
const state: ClientState = client.state;
client.subscribe('chat').on('message', (data: unknown, meta) => meta.seq.toFixed() + meta.epoch.toUpperCase());
const ack: Promise<{ epoch: string; seq: number }> = core.publish('chat', { text: 'hi' });
const isLifelineError = (error: unknown) => error instanceof LifelineError && error.code.length > 0;
const server = createServer({});
// @ts-expect-error the url is a string
createClient(42);
// @ts-expect-error lifeline-rt/core needs transport factories, not names
createCore('https://example.test/rt', { transports: ['websocket'] });
// @ts-expect-error no such transport
createClient('https://example.test/rt', { transports: ['carrier-pigeon'] });
// @ts-expect-error states are a closed set
const wrong: ClientState = 'sleeping';
export { state, ack, isLifelineError, server, wrong };
`;

// A full type-check with @types/node takes seconds, more on a busy 2-core machine.
const TYPECHECK_TIMEOUT = 90_000;

let dir: string;

beforeAll(() => {
  distFile('index.d.ts');
  dir = mkdtempSync(join(tmpdir(), 'lifeline-types-'));
  // Installed as a dependency would be: node_modules/lifeline-rt is the package itself.
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repo, join(dir, 'node_modules', 'lifeline-rt'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  writeFileSync(join(dir, 'consumer.ts'), consumer);
  // The same code as CommonJS (`require()` after compilation), for Node consumers on the .cjs build.
  writeFileSync(join(dir, 'consumer-cjs.cts'), consumer);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function diagnostics(moduleResolution: 'Bundler' | 'NodeNext' | 'Node16'): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind[moduleResolution === 'Bundler' ? 'ESNext' : moduleResolution],
    moduleResolution: ts.ModuleResolutionKind[moduleResolution],
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    typeRoots: [join(repo, 'node_modules', '@types')],
    skipLibCheck: false,
    skipDefaultLibCheck: true,
    preserveSymlinks: true,
  };
  const files = [join(dir, 'consumer.ts'), ...(moduleResolution === 'Bundler' ? [] : [join(dir, 'consumer-cjs.cts')])];
  const program = ts.createProgram(files, options);
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file ? `${d.file.fileName}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

describe('published type declarations', () => {
  it(
    'type-check a consumer under moduleResolution "bundler"',
    () => {
      expect(diagnostics('Bundler')).toEqual([]);
    },
    TYPECHECK_TIMEOUT,
  );

  it(
    'type-check an ESM and a CommonJS consumer under moduleResolution "nodenext"',
    () => {
      expect(diagnostics('NodeNext')).toEqual([]);
    },
    TYPECHECK_TIMEOUT,
  );

  // Under node16 a CommonJS file may not require() what TypeScript takes for ESM, so this fails
  // unless the `require` condition has its own .d.cts types.
  it(
    'type-check an ESM and a CommonJS consumer under moduleResolution "node16"',
    () => {
      expect(diagnostics('Node16')).toEqual([]);
    },
    TYPECHECK_TIMEOUT,
  );
});
