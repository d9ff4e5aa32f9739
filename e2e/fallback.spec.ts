// Negotiation through a hostile network: every fallback path is reached, and the time to the
// first message is recorded (as a test annotation) and bounded.
import type { FaultModes } from './fault-proxy.js';
import { expect, scriptTagBuilds, test } from './fixtures.js';
import { quickReconnect, startClient, subscribe, waitForMessages, waitForOpen } from './helpers.js';

interface Path {
  name: string;
  faults: Partial<FaultModes>;
  /** Transports the client may legitimately end on. */
  expected: string[];
  /** Generous bound on time to first message (ms): the design promises about a second. */
  bound: number;
}

const paths: Path[] = [
  { name: 'WebSocket refused → SSE', faults: { websocket: 'refuse' }, expected: ['sse'], bound: 3_000 },
  {
    name: 'WebSocket blackholed → SSE or long polling within the stagger',
    faults: { websocket: 'blackhole' },
    expected: ['sse', 'longpoll'],
    bound: 4_000,
  },
  {
    name: 'WebSocket refused and SSE buffered → long polling',
    faults: { websocket: 'refuse', sse: 'buffer' },
    expected: ['longpoll'],
    bound: 6_000,
  },
  {
    name: 'WebSocket refused and SSE refused → long polling',
    faults: { websocket: 'refuse', sse: 'refuse' },
    expected: ['longpoll'],
    bound: 3_000,
  },
  { name: 'Upgrade header stripped → a working transport', faults: { websocket: 'strip' }, expected: ['sse', 'longpoll'], bound: 3_000 },
];

for (const build of scriptTagBuilds)
  for (const path of paths) {
    test(`fallback (${build}): ${path.name}`, async ({ page, openPage, rtUrl, server, faultProxy }) => {
      faultProxy.set(path.faults);
      const first = await server.publish('ticker', 'first');
      await openPage(build);
      await startClient(page, rtUrl, quickReconnect);
      await subscribe(page, 'ticker', { epoch: first.epoch, seq: 0 });
      const [message] = await waitForMessages(page, 'ticker', 1, path.bound + 5_000);
      const elapsed = message!.t - (await page.evaluate(() => window.harness.startedAt));
      test.info().annotations.push({ type: 'time to first message (ms)', description: elapsed.toFixed(0) });
      console.log(`[fallback] ${path.name}: first message after ${elapsed.toFixed(0)} ms`);
      expect(path.expected).toContain(await waitForOpen(page));
      expect(elapsed).toBeLessThan(path.bound);
      // The fault was really met on the way.
      if (path.faults.websocket === 'refuse') expect(faultProxy.stats.refusedUpgrades).toBeGreaterThanOrEqual(1);
      if (path.faults.websocket === 'blackhole') expect(faultProxy.stats.blackholed).toBeGreaterThanOrEqual(1);
      if (path.faults.websocket === 'strip') expect(faultProxy.stats.strippedUpgrades).toBeGreaterThanOrEqual(1);
      if (path.faults.sse === 'buffer') expect(faultProxy.stats.bufferedSse).toBeGreaterThanOrEqual(1);
      if (path.faults.sse === 'refuse') expect(faultProxy.stats.refusedSse).toBeGreaterThanOrEqual(1);
      // And the winner carries live traffic both ways.
      await page.evaluate(() => window.harness.publish('p', 'ticker', 'from-page'));
      expect((await waitForMessages(page, 'ticker', 2)).map((m) => m.data)).toEqual(['first', 'from-page']);
    });
  }
