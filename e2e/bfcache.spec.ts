// pagehide → pageshow through the real back/forward cache, which Playwright's default flags
// turn off: the client closes cleanly when the page is hidden (an open WebSocket would make
// the page ineligible), and reconnects and resumes when it is shown again.
import { launchOptions } from './browser.js';
import { test, expect } from './fixtures.js';
import { expectExactlyOnce, startClient, subscribe, waitForMessages, waitForOpen } from './helpers.js';

test.use({ launchOptions: launchOptions(['--disable-back-forward-cache']) });

declare global {
  interface Window {
    pageshows?: boolean[];
  }
}

test('pagehide closes the connection, and the page restored from the bfcache resumes', async ({
  page,
  openPage,
  rtUrl,
  server,
  faultProxy,
}) => {
  await page.addInitScript(() => {
    window.pageshows = [];
    addEventListener('pageshow', (event) => window.pageshows!.push(event.persisted));
  });
  const first = await server.publish('c', 'one');
  await openPage();
  await startClient(page, rtUrl);
  await subscribe(page, 'c', { epoch: first.epoch, seq: 0 });
  await waitForOpen(page);
  await waitForMessages(page, 'c', 1);
  expect(server.connections()).toBe(1);

  await page.goto(`${faultProxy.url}/e2e/away.html`);
  // Closed cleanly on pagehide: the server holds no connection for the hidden page.
  await expect.poll(() => server.connections(), { timeout: 5_000 }).toBe(0);
  await server.publish('c', 'two');
  await server.publish('c', 'three');

  // A page restored from the cache fires no load event: wait for the commit only.
  await page.goBack({ waitUntil: 'commit' });
  await page.waitForFunction(() => typeof window.harness === 'object');
  // Restored from the cache (persisted), not loaded again: same page, same client.
  expect(await page.evaluate(() => window.pageshows)).toEqual([false, true]);
  const received = await waitForMessages(page, 'c', 3, 10_000);
  expectExactlyOnce(received, 1, 3);
  expect(await page.evaluate(() => window.harness.client!.state)).toBe('open');
});
