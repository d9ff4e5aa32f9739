// ioredis is an optional peer dependency: the Redis broker loads it on first use, and a
// project without it gets an error that names the fix. The installed-package check (no
// ioredis in the tree at all) is in test/build/pack.test.ts; here the loader is given a
// `require` that fails the ways Node's does.
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { IOREDIS_MISSING, IoredisMissingError, loadIoredis } from '../../src/server/brokers/load-ioredis.js';

/** An error shaped like the one Node's `require` throws for a package it cannot find. */
const notFound = (name: string) =>
  Object.assign(new Error(`Cannot find module '${name}'\nRequire stack:\n- /app/node_modules/lifeline-rt/dist/server.cjs`), {
    code: 'MODULE_NOT_FOUND',
  });

describe('loadIoredis', () => {
  it('loads the installed ioredis', () => {
    expect(loadIoredis().Redis).toBe(Redis);
  });

  it('a missing ioredis throws IOREDIS_MISSING, naming `npm install ioredis`, with the original error as cause', () => {
    const original = notFound('ioredis');
    let thrown: unknown;
    try {
      loadIoredis(() => {
        throw original;
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(IoredisMissingError);
    expect((thrown as IoredisMissingError).code).toBe(IOREDIS_MISSING);
    expect((thrown as Error).message).toContain('npm install ioredis');
    expect((thrown as Error).cause).toBe(original);
  });

  it('a missing dependency of ioredis (a broken install) is rethrown as it is', () => {
    const original = notFound('denque');
    expect(() =>
      loadIoredis(() => {
        throw original;
      }),
    ).toThrow(original);
  });

  it('any other failure while loading ioredis is rethrown as it is', () => {
    const original = new SyntaxError('Unexpected token');
    expect(() =>
      loadIoredis(() => {
        throw original;
      }),
    ).toThrow(original);
  });
});
