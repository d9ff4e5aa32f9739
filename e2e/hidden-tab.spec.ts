// A hidden tab: timers throttled, the connection healthy. It must not be declared dead; and
// when the connection really died while hidden, that must be found as soon as the page wakes.
//
// Headless Chromium never hides a page by itself (another tab in front or a minimised window
// leave it 'visible'), so the page is hidden by script: visibilityState is overridden, and
// timers are throttled the way Chromium does it for hidden pages — callbacks run only at
// aligned wake-ups — by wrapping setTimeout/setInterval before any page script runs.
// Chromium's own throttling is switched back on as well (Playwright's flags turn it off).
import { launchOptions } from './browser.js';
import { test, expect } from './fixtures.js';
import { expectExactlyOnce, startClient, subscribe, waitForMessages, waitForOpen } from './helpers.js';
import { installThrottling } from './page/throttle.js';

test.use({
  launchOptions: launchOptions([
    '--disable-background-timer-throttling',
    '--disable-backgrounding-occluded-windows',
    '--disable-renderer-backgrounding',
  ]),
  // 2 s: every ping of the server must be answered within 2 s, room enough for a loaded machine.
  serverOptions: { heartbeat: 2_000 },
});

test('a hidden, throttled tab is not declared dead; a connection that died while hidden is found on wake', async ({
  page,
  openPage,
  rtUrl,
  server,
  faultProxy,
}) => {
  test.setTimeout(60_000);
  await page.addInitScript(installThrottling);
  const first = await server.publish('c', 1);
  await openPage();
  await startClient(page, rtUrl, { transports: ['websocket'], reconnect: { initialDelay: 50, maxDelay: 500 } });
  await subscribe(page, 'c', { epoch: first.epoch, seq: 0 });
  await waitForOpen(page);
  await waitForMessages(page, 'c', 1);
  const stateChanges = () => page.evaluate(() => window.harness.states.length);
  const changesBefore = await stateChanges();

  // 1. Hidden for 11 s with wake-ups every 5 s: longer than heartbeat + grace (2 s + 2 s), so
  //    every heartbeat check runs late. The channel is quiet, so the server's pings (answered
  //    at once, from the message event) are all that arrives; then a burst of messages.
  await page.evaluate(() => window.tab.hide(5_000));
  await new Promise((resolve) => setTimeout(resolve, 11_000));
  for (let n = 2; n <= 6; n++) await server.publish('c', n);
  await waitForMessages(page, 'c', 6);
  const hiddenOutcome = await page.evaluate(() => ({
    state: window.harness.client!.state,
    errors: window.harness.errors.map((e) => e.code),
  }));
  expect(hiddenOutcome).toEqual({ state: 'open', errors: [] });
  expect(await stateChanges()).toBe(changesBefore);
  expect(faultProxy.stats.upgrades).toBe(1);
  expectExactlyOnce(await waitForMessages(page, 'c', 6), 1, 6);

  // 2. Wake-ups once a minute now, and the connection dies silently (no close reaches the
  //    page). Only the visibilitychange check can find it before the next wake-up.
  await page.evaluate(() => window.tab.hide(60_000));
  faultProxy.stallAll();
  await server.publish('c', 7);
  // Past the deadline (heartbeat + grace, 4 s, after the last frame that got through).
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  expect(await page.evaluate(() => window.harness.client!.state)).toBe('open');
  // The check runs inside show() itself, so the clock starts before it.
  const shownAt = await page.evaluate(() => {
    const t0 = performance.now();
    window.tab.show();
    return t0;
  });
  await page.waitForFunction((t0) => window.harness.states.some((s) => s.t >= t0 && s.to !== 'open'), shownAt, { timeout: 5_000 });
  const noticed = await page.evaluate((t0) => window.harness.states.find((s) => s.t >= t0 && s.to !== 'open')!.t - t0, shownAt);
  test.info().annotations.push({ type: 'visible → dead connection noticed (ms)', description: noticed.toFixed(0) });
  console.log(`[hidden-tab] dead connection noticed ${noticed.toFixed(0)} ms after the page became visible`);
  expect(noticed).toBeLessThan(1_000);
  await waitForOpen(page);
  expectExactlyOnce(await waitForMessages(page, 'c', 7), 1, 7);
  expect(faultProxy.stats.upgrades).toBe(2);
});
