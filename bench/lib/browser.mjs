// Headless Chromium for page-side measures, launched as the e2e tests launch it (e2e/browser.ts).
import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

const executablePath = process.env.LIFELINE_CHROMIUM ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

export function launchBrowser() {
  return chromium.launch({
    ...(executablePath ? { executablePath } : {}),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh page at `origin` with CDP's Performance domain on; `metrics()` reads Performance.getMetrics. */
export async function openPage(browser, origin) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  return {
    page,
    cdp,
    async metrics() {
      const { metrics } = await cdp.send('Performance.getMetrics');
      return Object.fromEntries(metrics.map(({ name, value }) => [name, value]));
    },
    collectGarbage: () => cdp.send('HeapProfiler.collectGarbage'),
    close: () => context.close(),
  };
}
