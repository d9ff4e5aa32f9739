import { test as base, expect } from '@playwright/test';
import type { TestServerOptions } from './options.js';
import { createTestServer } from './test-server.js';
import type { TestServer } from './types.js';

/** The fixtures `lifeline-rt/testing/playwright` adds to Playwright's `test`. */
export interface LifelineFixtures {
  /**
   * Options of this test's server (`createTestServer`'s), set with
   * `test.use({ lifelineOptions: { heartbeat: 500 } })` in a file or a `describe`.
   * @default {}
   */
  lifelineOptions: TestServerOptions;
  /** A fresh test server for this test, closed after it; give `lifeline.url` to the app under test. */
  lifeline: TestServer;
}

/** Playwright's `test` with a {@link LifelineFixtures.lifeline} test server per test. */
export const test = base.extend<LifelineFixtures>({
  lifelineOptions: [{}, { option: true }],
  lifeline: async ({ lifelineOptions }, use) => {
    const server = await createTestServer(lifelineOptions);
    try {
      await use(server);
    } finally {
      await server.close();
    }
  },
});

export { expect };
