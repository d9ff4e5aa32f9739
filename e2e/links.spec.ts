// SSE and long polling at the speed of the link (production script tag, Chromium, through the
// fault proxy): unawaited publishes travel batched, each lands once, every promise resolves;
// and under random kills the default outbox rides out the outages.
import type { Page } from '@playwright/test';
import type { LinkKind } from './fault-proxy.js';
import { test, expect } from './fixtures.js';
import { quickReconnect, startClient, waitForOpen, type TransportName } from './helpers.js';

const carriers: Record<'sse' | 'longpoll', LinkKind[]> = { sse: ['sse', 'http'], longpoll: ['http'] };

/** Waits until `count` publishes settled, then checks each resolved and the seqs are `count` distinct ones after `after`, without holes. */
async function expectLandedOnce(page: Page, count: number, after: number): Promise<void> {
  await page.waitForFunction((n) => Object.keys(window.harness.published).length >= n, count, { timeout: 60_000 });
  const outcomes = await page.evaluate(() => Object.values(window.harness.published));
  expect(outcomes.filter((o) => !('ok' in o))).toEqual([]);
  const seqs = outcomes.map((o) => ('ok' in o ? o.ok.seq : -1)).sort((a, b) => a - b);
  // Exactly once into the log: one seq each, gapless, so no publish landed twice.
  expect(seqs).toEqual(Array.from({ length: count }, (_, i) => after + 1 + i));
}

for (const transport of ['sse', 'longpoll'] as const satisfies readonly TransportName[]) {
  test(`${transport}: 1,000 unawaited publishes at 50 ms each way all resolve, once each, batched`, async ({
    page,
    openPage,
    rtUrl,
    server,
    faultProxy,
  }) => {
    const COUNT = 1_000;
    const seed = await server.publish('chat', 'seed');
    faultProxy.set({ latency: 50 });
    await openPage();
    await startClient(page, rtUrl, { transports: [transport], ...quickReconnect });
    expect(await waitForOpen(page)).toBe(transport);
    const before = faultProxy.stats.forwarded;
    await page.evaluate((n) => {
      for (let i = 0; i < n; i++) void window.harness.publish(`m${i}`, 'chat', i);
    }, COUNT);
    await expectLandedOnce(page, COUNT, seed.seq);
    // At most one /send per round trip: ≥ 10 publishes per round trip means ≤ 100 sends (the
    // count also holds the polls, which only makes it stricter).
    const sends = faultProxy.stats.forwarded - before;
    test.info().annotations.push({ type: 'requests', description: String(sends) });
    expect(sends).toBeLessThanOrEqual(COUNT / 10);
  });

  test(`${transport}: 200 publishes at 40/s under kills every 300–800 ms all resolve, exactly once, with the default outbox`, async ({
    page,
    openPage,
    rtUrl,
    server,
    faultProxy,
  }) => {
    const COUNT = 200;
    const seed = await server.publish('chat', 'seed');
    faultProxy.set({ latency: 40 });
    await openPage();
    await startClient(page, rtUrl, { transports: [transport], ...quickReconnect });
    expect(await waitForOpen(page)).toBe(transport);
    let stopped = false;
    const kill = async () => {
      while (!stopped) {
        await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 500));
        if (!stopped) faultProxy.killAll(carriers[transport]);
      }
    };
    const killing = kill();
    // 8 publishes every 200 ms: 40 a second for 5 s.
    for (let wave = 0; wave < COUNT / 8; wave++) {
      await page.evaluate((w) => {
        for (let i = 0; i < 8; i++) void window.harness.publish(`m${w * 8 + i}`, 'chat', w * 8 + i);
      }, wave);
      await page.waitForTimeout(200);
    }
    stopped = true;
    await killing;
    expect(faultProxy.stats.kills).toBeGreaterThanOrEqual(3);
    await expectLandedOnce(page, COUNT, seed.seq);
  });
}
