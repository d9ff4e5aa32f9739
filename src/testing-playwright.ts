/**
 * `lifeline-rt/testing/playwright` (Node only): Playwright's `test` with a `lifeline` fixture,
 * a fresh test server per test, closed after it; and Playwright's `expect`. Needs
 * `@playwright/test` (an optional peer dependency). See docs/testing.md.
 */
export { expect, test, type LifelineFixtures } from './testing/playwright.js';
export * from './testing.js';
