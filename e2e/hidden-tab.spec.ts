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

test.use({
  launchOptions: launchOptions(['--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows', '--disable-renderer-backgrounding']),
  serverOptions: { heartbeat: 1_000 },
});

declare global {
  interface Window {
    /** Hides the page with timers waking only every `alignMs` from now; `show()` undoes it. */
    tab: { hide(alignMs: number): void; show(): void };
  }
}

function installThrottling() {
  const realSet = window.setTimeout.bind(window) as unknown as (callback: () => void, delay: number) => number;
  const realClear = window.clearTimeout.bind(window) as unknown as (id: number | undefined) => void;
  let align = 0;
  let since = 0;
  let hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  const timers = new Map<number, number>();
  let nextId = 1_000_000;
  const schedule = (id: number, callback: () => void, delay: number) => {
    const fire = () => {
      if (!timers.has(id)) return;
      // Hidden: run only on a wake-up boundary, as Chromium's throttling does.
      const now = performance.now();
      const wait = align > 0 ? since + Math.ceil((now - since) / align) * align - now : 0;
      if (wait > 1) timers.set(id, realSet(fire, wait));
      else callback();
    };
    timers.set(id, realSet(fire, delay));
  };
  type Handler = (...args: unknown[]) => void;
  window.setTimeout = ((handler: Handler, delay = 0, ...args: unknown[]) => {
    const id = nextId++;
    schedule(id, () => {
      timers.delete(id);
      handler(...args);
    }, delay);
    return id;
  }) as typeof window.setTimeout;
  window.setInterval = ((handler: Handler, delay = 0, ...args: unknown[]) => {
    const id = nextId++;
    const tick = () => {
      schedule(id, tick, Math.max(1, delay));
      handler(...args);
    };
    schedule(id, tick, delay);
    return id;
  }) as typeof window.setInterval;
  const clear = (id?: number) => {
    const real = id === undefined ? undefined : timers.get(id);
    if (real === undefined) return realClear(id);
    timers.delete(id!);
    realClear(real);
  };
  window.clearTimeout = window.clearInterval = clear as typeof window.clearTimeout;
  const flip = (toHidden: boolean) => {
    hidden = toHidden;
    document.dispatchEvent(new Event('visibilitychange'));
  };
  window.tab = {
    hide(alignMs) {
      align = alignMs;
      since = performance.now();
      flip(true);
    },
    show() {
      align = 0;
      flip(false);
    },
  };
}

test('a hidden, throttled tab is not declared dead; a connection that died while hidden is found on wake', async ({ page, openPage, rtUrl, server, faultProxy }) => {
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

  // 1. Hidden for 10 s with wake-ups every 4 s: longer than heartbeat + grace (1 s + 2 s),
  //    so every check runs late. Server pings keep arriving; nothing may be declared dead.
  await page.evaluate(() => window.tab.hide(4_000));
  for (let n = 2; n <= 6; n++) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await server.publish('c', n);
  }
  const hiddenOutcome = await page.evaluate(() => ({ state: window.harness.client!.state, errors: window.harness.errors.map((e) => e.code) }));
  expect(hiddenOutcome).toEqual({ state: 'open', errors: [] });
  expect(await stateChanges()).toBe(changesBefore);
  expect(faultProxy.stats.upgrades).toBe(1);
  expectExactlyOnce(await waitForMessages(page, 'c', 6), 1, 6);

  // 2. Wake-ups once a minute now, and the connection dies silently (no close reaches the
  //    page). Only the visibilitychange check can find it before the next wake-up.
  await page.evaluate(() => window.tab.hide(60_000));
  faultProxy.stallAll();
  await server.publish('c', 7);
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  expect(await page.evaluate(() => window.harness.client!.state)).toBe('open');
  const shownAt = await page.evaluate(() => {
    window.tab.show();
    return performance.now();
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
