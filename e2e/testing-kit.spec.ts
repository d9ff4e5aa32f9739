// The testing kit's Playwright fixture (`lifeline-rt/testing/playwright`) driving a page that
// loads the built script tag (dist/lifeline.min.js) from its own origin, as an app's suite would:
// one spec per fault of the kit's contract, on every transport where it applies.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test as kit, expect, type TestServer, type TestTransport } from '../src/testing-playwright.js';
import { buildAssets, type Assets } from './assets.js';
import { serveFrom } from './fixtures.js';
import { expectExactlyOnce, startClient, subscribe, waitForMessages, waitForOpen } from './helpers.js';

/** The kit's test, plus the app: the script-tag page on a static server of its own origin. */
const test = kit.extend<{ appUrl: string }, { assets: Assets }>({
  assets: [async ({}, use) => use(await buildAssets()), { scope: 'worker' }],
  appUrl: async ({ assets }, use) => {
    const serve = serveFrom(assets);
    const app: Server = createServer((req, res) => {
      if (!serve(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    await use(`http://127.0.0.1:${(app.address() as AddressInfo).port}`);
    await new Promise<void>((resolve) => {
      app.close(() => resolve());
      app.closeAllConnections();
    });
  },
});

const transports: TestTransport[] = ['websocket', 'sse', 'longpoll'];
/** The transport each one falls back to, in a `transports` order that starts with it. */
const next: Record<TestTransport, TestTransport> = { websocket: 'sse', sse: 'longpoll', longpoll: 'websocket' };
const quick = { rememberTransport: false, reconnect: { initialDelay: 20, maxDelay: 200 } };

/** Opens the app page and starts its client on `lifeline.url`. */
async function openApp(page: import('@playwright/test').Page, appUrl: string, lifeline: TestServer, options: Record<string, unknown>) {
  await page.goto(`${appUrl}/e2e/index.html`);
  await page.waitForFunction(() => typeof window.harness === 'object');
  await startClient(page, lifeline.url, { ...quick, ...options });
}

const errorCodes = (page: import('@playwright/test').Page) => page.evaluate(() => window.harness.errors.map((e) => e.code));

for (const transport of transports) {
  test.describe(`${transport}`, () => {
    test(`refuse(${transport}): the client falls back to ${next[transport]} at once`, async ({ page, appUrl, lifeline }) => {
      lifeline.refuse(transport);
      // A stagger far above the wait: only a refusal that fails at once moves on in time.
      await openApp(page, appUrl, lifeline, { transports: [transport, next[transport]], stagger: 20_000 });
      await expect(lifeline.waitForConnection({ timeout: 5000 })).resolves.toMatchObject({ transport: next[transport] });
      expect(await waitForOpen(page)).toBe(next[transport]);
    });

    test(`blackhole(${transport}): the attempt hangs and the stagger starts ${next[transport]}`, async ({ page, appUrl, lifeline }) => {
      lifeline.blackhole(transport);
      await openApp(page, appUrl, lifeline, { transports: [transport, next[transport]], stagger: 400 });
      const started = await page.evaluate(() => window.harness.startedAt);
      expect(await waitForOpen(page)).toBe(next[transport]);
      const opened = await page.evaluate(() => window.harness.states.find((s) => s.to === 'open')!.t);
      expect(opened - started).toBeGreaterThanOrEqual(400);
      expect(await errorCodes(page)).toEqual([]);
    });

    test(`drop(${transport}): the client resumes and gets every message exactly once`, async ({ page, appUrl, lifeline }) => {
      await openApp(page, appUrl, lifeline, { transports: [transport] });
      await subscribe(page, 'feed');
      const first = await lifeline.waitForConnection({ channel: 'feed' });
      for (let i = 1; i <= 5; i++) await lifeline.publish('feed', i);
      await waitForMessages(page, 'feed', 5);
      expect(lifeline.drop({ transport })).toBe(1);
      for (let i = 6; i <= 10; i++) await lifeline.publish('feed', i);
      const second = await lifeline.waitForConnection({ channel: 'feed' });
      expect(second.cid).not.toBe(first.cid);
      expectExactlyOnce(await waitForMessages(page, 'feed', 10), 1, 10);
    });

    test.describe(() => {
      test.use({ lifelineOptions: { heartbeat: 500 } });

      test(`stall() on ${transport}: the heartbeat finds the zombie and the client recovers`, async ({ page, appUrl, lifeline }) => {
        await openApp(page, appUrl, lifeline, { transports: [transport] });
        await subscribe(page, 'feed');
        const zombie = await lifeline.waitForConnection({ channel: 'feed' });
        await lifeline.publish('feed', 'before');
        await waitForMessages(page, 'feed', 1);
        expect(lifeline.stall()).toBe(1);
        await lifeline.publish('feed', 'during');
        const fresh = await lifeline.waitForConnection({ channel: 'feed', timeout: 8000 });
        expect(fresh.cid).not.toBe(zombie.cid);
        expect(await errorCodes(page)).toContain('HEARTBEAT_TIMEOUT');
        expect((await waitForMessages(page, 'feed', 2)).map((m) => m.data)).toEqual(['before', 'during']);
      });

      test(`restart() on ${transport}: the client gets a gap and its publish is resent once`, async ({ page, appUrl, lifeline }) => {
        await openApp(page, appUrl, lifeline, { transports: [transport] });
        await subscribe(page, 'feed');
        await lifeline.waitForConnection({ channel: 'feed' });
        const before = await lifeline.publish('feed', 'before');
        await waitForMessages(page, 'feed', 1);
        // A stalled connection never carries the publish to this life of the server.
        lifeline.stall();
        await page.evaluate(() => void window.harness.publish('order', 'orders', { id: 7 }));
        await lifeline.restart();
        await expect(lifeline.waitForPublish('orders')).resolves.toEqual({ id: 7 });
        await page.waitForFunction(() => window.harness.published.order !== undefined);
        const outcome = await page.evaluate(() => window.harness.published.order);
        expect(outcome).toEqual({ ok: { epoch: expect.any(String), seq: 1 } });
        expect((outcome as { ok: { epoch: string } }).ok.epoch).not.toBe(before.epoch);
        expect(lifeline.published('orders')).toEqual([{ id: 7 }]);
        await lifeline.waitForConnection({ channel: 'feed' });
        await lifeline.publish('feed', 'after');
        expect((await waitForMessages(page, 'feed', 2)).map((m) => m.data)).toEqual(['before', 'after']);
        const gaps = await page.evaluate(() => window.harness.gaps.feed!.map((g) => g.info));
        expect(gaps).toMatchObject([{ channel: 'feed', reason: 'epoch' }]);
      });
    });

    test(`forgetHistory() on ${transport}: the subscriber gets a gap, then the new log`, async ({ page, appUrl, lifeline }) => {
      await openApp(page, appUrl, lifeline, { transports: [transport] });
      await subscribe(page, 'feed');
      await lifeline.waitForConnection({ channel: 'feed' });
      const before = await lifeline.publish('feed', 'old');
      await waitForMessages(page, 'feed', 1);
      lifeline.forgetHistory('feed');
      const after = await lifeline.publish('feed', 'new');
      expect(after).toMatchObject({ seq: 1 });
      expect(after.epoch).not.toBe(before.epoch);
      const received = await waitForMessages(page, 'feed', 2);
      expect(received.map((m) => [m.data, m.seq])).toEqual([
        ['old', 1],
        ['new', 1],
      ]);
      const gaps = await page.evaluate(() => window.harness.gaps.feed!.map((g) => g.info));
      expect(gaps).toMatchObject([{ channel: 'feed', reason: 'epoch', epoch: after.epoch }]);
    });
  });
}
