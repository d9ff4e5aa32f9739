// The client in Chromium against the real reference server, once per forced transport and
// once per script-tag build (production and development).
import { expect, scriptTagBuilds, test } from './fixtures.js';
import { expectExactlyOnce, quickReconnect, startClient, subscribe, transportNames, waitForMessages, waitForOpen } from './helpers.js';

for (const build of scriptTagBuilds)
  for (const transport of transportNames) {
    test(`${transport} (${build}): subscribe, receive, publish, and resume after a reload`, async ({ page, openPage, rtUrl, server }) => {
      const options = { transports: [transport], ...quickReconnect };
      const first = await server.publish('news', 'before');
      await openPage(build);
      await startClient(page, rtUrl, options);
      // Resuming from seq 0 replays 'before', which also proves the subscription is live.
      await subscribe(page, 'news', { epoch: first.epoch, seq: 0 });
      expect(await waitForOpen(page)).toBe(transport);
      await waitForMessages(page, 'news', 1);

      for (const n of [1, 2, 3]) await server.publish('news', `live-${n}`);
      await page.evaluate(() => window.harness.publish('p1', 'news', 'from-page'));
      const published = await page.evaluate(() => window.harness.published.p1);
      expect(published).toEqual({ ok: { seq: 5, epoch: first.epoch } });
      const received = await waitForMessages(page, 'news', 5);
      expect(received.map((m) => m.data)).toEqual(['before', 'live-1', 'live-2', 'live-3', 'from-page']);
      expect(await page.evaluate(() => window.harness.transports.map((t) => t.name).filter(Boolean))).toEqual([transport]);

      // Reload: the cursor survives in sessionStorage; what was published meanwhile is replayed.
      await page.evaluate(() => window.harness.saveCursors());
      await page.reload();
      await page.waitForFunction(() => typeof window.harness === 'object');
      const saved = await page.evaluate(() => window.harness.savedCursors());
      expect(saved).toEqual({ news: { epoch: first.epoch, seq: 5 } });
      await server.publish('news', 'while-away-1');
      await server.publish('news', 'while-away-2');
      await startClient(page, rtUrl, options);
      await subscribe(page, 'news', saved.news);
      const resumed = await waitForMessages(page, 'news', 2);
      await server.publish('news', 'after');
      const all = await waitForMessages(page, 'news', 3);
      expect(all.map((m) => m.data)).toEqual(['while-away-1', 'while-away-2', 'after']);
      expectExactlyOnce(all, 6, 8);
      expect(resumed[0]!.epoch).toBe(first.epoch);
    });
  }
