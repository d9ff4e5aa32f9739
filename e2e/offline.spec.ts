// offline → online: no attempts burned while the browser is offline, and a reconnect at once
// when it comes back, however long the backoff would have been.
import { test, expect } from './fixtures.js';
import { expectExactlyOnce, startClient, subscribe, waitForMessages, waitForOpen } from './helpers.js';

test('offline → online: nothing tried while offline, reconnected at once on the online event', async ({
  page,
  context,
  openPage,
  rtUrl,
  server,
  faultProxy,
}) => {
  const first = await server.publish('c', 'one');
  await openPage();
  // A backoff this large makes any reconnect under a second the online event's doing.
  await startClient(page, rtUrl, { transports: ['websocket'], reconnect: { initialDelay: 20_000, maxDelay: 30_000 } });
  await subscribe(page, 'c', { epoch: first.epoch, seq: 0 });
  await waitForOpen(page);
  await waitForMessages(page, 'c', 1);

  await context.setOffline(true);
  // Offline emulation doesn't cut open sockets; the network dropping does.
  faultProxy.killAll();
  await page.waitForFunction(() => window.harness.client!.state !== 'open', undefined, { timeout: 5_000 });
  const traffic = () => faultProxy.stats.upgrades + faultProxy.stats.forwarded;
  const before = traffic();
  await page.waitForTimeout(1_500);
  expect(await page.evaluate(() => window.harness.client!.state)).toBe('reconnecting');
  expect(traffic()).toBe(before);
  await server.publish('c', 'two');

  const backAt = await page.evaluate(() => performance.now());
  await context.setOffline(false);
  await waitForOpen(page, 10_000);
  const reopened = await page.evaluate((t0) => window.harness.states.find((s) => s.to === 'open' && s.t > t0)!.t - t0, backAt);
  test.info().annotations.push({ type: 'online → open (ms)', description: reopened.toFixed(0) });
  console.log(`[offline] online → open in ${reopened.toFixed(0)} ms`);
  expect(reopened).toBeLessThan(2_000);
  expectExactlyOnce(await waitForMessages(page, 'c', 2), 1, 2);
});
