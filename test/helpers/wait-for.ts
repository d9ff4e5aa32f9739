// One patient wait for the integration tests: real sockets, child processes and Redis take
// longer than vi.waitFor's 1 s default on a loaded 2-core machine. A longer timeout only slows
// a test that is failing anyway.
import { vi } from 'vitest';

/** Retries `check` (which throws or rejects until its condition holds) every `interval` ms, up to `timeout` ms. */
export const waitFor = <T>(check: () => T | Promise<T>, timeout = 15_000, interval = 10): Promise<T> =>
  vi.waitFor(check, { timeout, interval });
