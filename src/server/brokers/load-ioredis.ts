import { createRequire } from 'node:module';
import type { Cluster, Redis } from 'ioredis';

/** The part of the `ioredis` module the Redis broker uses. */
export interface IoredisModule {
  Redis: typeof Redis;
  Cluster: typeof Cluster;
}

/** Loads a module by name, as `require` does; injectable so tests can simulate a missing package. */
export type ModuleLoader = (name: string) => unknown;

/** Stable code of the error thrown when `ioredis` is not installed. */
export const IOREDIS_MISSING = 'IOREDIS_MISSING';

/**
 * `redisBroker` was called but `ioredis` is not installed. It is an optional peer dependency,
 * so that front-end projects that install Lifeline for its client never download it.
 */
export class IoredisMissingError extends Error {
  /** Always `IOREDIS_MISSING`. */
  readonly code = IOREDIS_MISSING;

  constructor(options?: { cause?: unknown }) {
    super('redisBroker needs the ioredis package, an optional peer dependency of lifeline-rt: run `npm install ioredis`', options);
    this.name = 'IoredisMissingError';
  }
}

// Resolved from this file, so `ioredis` is found next to the installed package as any
// dependency would be. Synchronous on purpose: `redisBroker` stays a plain function returning
// a broker (ioredis is CommonJS; Node ≥ 20.19 could also require it if it became ESM-only).
const requireFromHere: ModuleLoader = createRequire(import.meta.url);

/**
 * Loads `ioredis` on first use, so that importing `lifeline-rt/server` never needs it and
 * only the Redis broker does. Throws {@link IoredisMissingError} when it is not installed;
 * any other failure while loading it is rethrown as it is.
 */
export function loadIoredis(load: ModuleLoader = requireFromHere): IoredisModule {
  try {
    return load('ioredis') as IoredisModule;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    // Only ioredis itself missing: a missing dependency of ioredis is a broken install, not this.
    const missing =
      (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && /['"]ioredis['"]/.test(String((error as Error).message));
    if (missing) throw new IoredisMissingError({ cause: error });
    throw error;
  }
}
