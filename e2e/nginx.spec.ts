// A page in Chromium, served through Debian's nginx running the documented single-node config
// (docs/deploy/nginx-single.conf) on a non-default port, on every transport and through
// `nginx -s reload` mid-stream. Only the test page's own location is added to the config.
import { createServer, type Server } from 'node:http';
import { siteConfig, startNginx } from '../test/helpers/nginx.js';
import { expect, serveFrom, startInProcessServer, test } from './fixtures.js';
import { expectExactlyOnce, quickReconnect, startClient, subscribe, transportNames, waitForMessages, waitForOpen } from './helpers.js';

const single = new URL('../docs/deploy/nginx-single.conf', import.meta.url);

for (const transport of transportNames) {
  test(`${transport} through the documented nginx config on a non-default port, and through a reload`, async ({ page, assets }) => {
    const server = await startInProcessServer();
    const serve = serveFrom(assets);
    const pages: Server = createServer((req, res) => {
      if (!serve(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    const pagesPort = (pages.address() as { port: number }).port;
    const nginx = await startNginx((listen) =>
      siteConfig(single, [
        ['listen 80;', `listen 127.0.0.1:${listen};`],
        ['127.0.0.1:3000', new URL(server.url).host],
        [
          'server_name rt.example.com;',
          `server_name rt.example.com;\n    location /e2e/ { proxy_pass http://127.0.0.1:${pagesPort}; }\n    location = /lifeline.min.js { proxy_pass http://127.0.0.1:${pagesPort}; }`,
        ],
      ]),
    );
    try {
      const origin = `http://127.0.0.1:${nginx.port}`;
      await page.goto(`${origin}/e2e/index.html`);
      await page.waitForFunction(() => typeof window.harness === 'object');
      await startClient(page, `${origin}/rt`, { transports: [transport], rememberTransport: false, ...quickReconnect });
      // Resuming from seq 0 replays live-1, which proves the subscription is live before the
      // next publishes (a subscription from "now" could land after them).
      const first = await server.publish('news', 'live-1');
      await subscribe(page, 'news', { epoch: first.epoch, seq: 0 });
      expect(await waitForOpen(page)).toBe(transport);
      await waitForMessages(page, 'news', 1);

      for (const n of [2, 3]) await server.publish('news', `live-${n}`);
      await page.evaluate(() => window.harness.publish('p1', 'news', 'from-page'));
      const before = await waitForMessages(page, 'news', 4);
      expect(before.map((m) => m.data)).toEqual(['live-1', 'live-2', 'live-3', 'from-page']);

      await nginx.reload();
      for (let n = 5; n <= 40; n++) {
        await server.publish('news', `after-reload-${n}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const all = await waitForMessages(page, 'news', 40, 20_000);
      expectExactlyOnce(all, 1, 40);
      expect(await page.evaluate(() => window.harness.published.p1)).toMatchObject({ ok: { seq: 4 } });
    } finally {
      await nginx.dispose();
      await new Promise((resolve) => pages.close(resolve));
      await server.close();
    }
  });
}
