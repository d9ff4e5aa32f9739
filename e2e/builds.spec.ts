// Both ways users load Lifeline, exercised in Chromium: dist/lifeline.min.js with a script
// tag, and the ESM build (dist/index.js) bundled into a small app by esbuild.
import { test, expect } from './fixtures.js';
import { quickReconnect, startClient, subscribe, waitForMessages, waitForOpen } from './helpers.js';

for (const build of ['index', 'spa'] as const) {
  test(`${build === 'index' ? 'script tag (IIFE)' : 'bundled SPA (ESM)'}: connects, receives and publishes`, async ({
    page,
    openPage,
    rtUrl,
    server,
  }) => {
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await openPage(build);
    const loaded = await page.evaluate(() => ({ build: window.harness.build, global: typeof (window as { Lifeline?: unknown }).Lifeline }));
    // The IIFE defines window.Lifeline; the bundled app must not need (or leak) a global.
    expect(loaded).toEqual(build === 'index' ? { build: 'script-tag', global: 'object' } : { build: 'spa', global: 'undefined' });

    const first = await server.publish('b', 'hello');
    await startClient(page, rtUrl, quickReconnect);
    await subscribe(page, 'b', { epoch: first.epoch, seq: 0 });
    expect(await waitForOpen(page)).toBe('websocket');
    await page.evaluate(() => window.harness.publish('x', 'b', 'from-page'));
    expect(await page.evaluate(() => window.harness.published.x)).toEqual({ ok: { seq: 2, epoch: first.epoch } });
    expect((await waitForMessages(page, 'b', 2)).map((m) => m.data)).toEqual(['hello', 'from-page']);
    await page.evaluate(() => window.harness.client!.close());
    expect(await page.evaluate(() => window.harness.client!.state)).toBe('closed');
    expect(pageErrors).toEqual([]);
  });
}

// A publish JSON would change is refused before anything is sent, in both script-tag builds;
// the development build also says where the value is.
for (const build of ['index', 'dev'] as const) {
  test(`${build === 'index' ? 'production' : 'development'} script tag: publish refuses data JSON cannot carry with BAD_DATA`, async ({
    page,
    openPage,
    rtUrl,
  }) => {
    await openPage(build);
    await startClient(page, rtUrl, quickReconnect);
    await waitForOpen(page);
    const refused = await page.evaluate(async () => {
      const client = window.harness.client!;
      const reasons: string[] = [];
      for (const data of [undefined, { when: new Map() }, { n: [1, Number.NaN] }, 1n]) {
        await client.publish('b', data).then(
          () => reasons.push('published'),
          (error: { code: string; message: string }) => reasons.push(`${error.code}|${error.message}`),
        );
      }
      return reasons;
    });
    if (build === 'index') expect(refused).toEqual(Array(4).fill('BAD_DATA|BAD_DATA'));
    else {
      expect(refused.map((reason) => reason.split('|')[0])).toEqual(Array(4).fill('BAD_DATA'));
      expect(refused.map((reason) => reason.split(' is ')[0])).toEqual([
        'BAD_DATA|BAD_DATA: data',
        'BAD_DATA|BAD_DATA: data.when',
        'BAD_DATA|BAD_DATA: data.n[1]',
        'BAD_DATA|BAD_DATA: data',
      ]);
    }
  });
}
