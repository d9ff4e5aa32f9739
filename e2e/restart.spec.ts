// The server process dies (SIGKILL: no goodbye) and comes back on the same port with an empty
// memory broker. The client must say `gap` (history is gone, the epoch changed) and go on.
import { startFaultProxy } from './fault-proxy.js';
import { serveFrom, test, expect } from './fixtures.js';
import { quickReconnect, startClient, subscribe, transportNames, waitForMessages, waitForOpen } from './helpers.js';
import { publishHttp, startServerProcess, type ServerProcess } from './server-process.js';

/** Restarts on `port`; the old socket may linger a moment after SIGKILL, so retry briefly. */
async function restartOn(port: number): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerProcess({ port });
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

for (const transport of transportNames) {
  test(`${transport}: server SIGKILL and restart — gap, then new messages flow`, async ({ page, assets }) => {
    let server = await startServerProcess();
    const proxy = await startFaultProxy({ target: `http://127.0.0.1:${server.port}`, serve: serveFrom(assets) });
    try {
      const rtUrl = proxy.url + new URL(server.url).pathname;
      const first = await publishHttp(server.url, 'feed', 'old-1');
      await publishHttp(server.url, 'feed', 'old-2');
      await page.goto(`${proxy.url}/e2e/index.html`);
      await startClient(page, rtUrl, { transports: [transport], ...quickReconnect });
      await subscribe(page, 'feed', { epoch: first.epoch, seq: 0 });
      expect(await waitForOpen(page)).toBe(transport);
      await waitForMessages(page, 'feed', 2);

      await server.kill('SIGKILL');
      const killedAt = Date.now();
      server = await restartOn(server.port);
      await page.waitForFunction(() => (window.harness.gaps.feed?.length ?? 0) >= 1, undefined, { timeout: 15_000 });
      const gapAfter = Date.now() - killedAt;
      test.info().annotations.push({ type: 'kill → gap (ms)', description: String(gapAfter) });
      const gap = await page.evaluate(() => window.harness.gaps.feed![0]!.info);
      expect(gap).toMatchObject({ reason: 'epoch' });

      const fresh = await publishHttp(server.url, 'feed', 'new-1');
      await publishHttp(server.url, 'feed', 'new-2');
      expect(fresh.epoch).not.toBe(first.epoch);
      const received = await waitForMessages(page, 'feed', 4);
      expect(received.map((m) => [m.data, m.epoch, m.seq])).toEqual([
        ['old-1', first.epoch, 1],
        ['old-2', first.epoch, 2],
        ['new-1', fresh.epoch, 1],
        ['new-2', fresh.epoch, 2],
      ]);
      expect(await page.evaluate(() => window.harness.gaps.feed!.length)).toBe(1);
      expect(gapAfter).toBeLessThan(10_000);
    } finally {
      await proxy.close();
      await server.kill('SIGKILL');
    }
  });
}
