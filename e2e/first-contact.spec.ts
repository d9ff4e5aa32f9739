// A first-time user's mistakes, seen from a page on another origin than the server (the page
// comes from the proxy, the client talks to the server's own port): the server's error answers
// carry CORS headers, so the client reads its codes instead of the browser's "blocked by CORS
// policy". Run on the production and the development script tag: the codes are the same, the
// development build's message adds the fix.
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Page } from '@playwright/test';
import { expect, scriptTagBuilds, test } from './fixtures.js';
import { quickReconnect } from './helpers.js';

/** What the page's client reported, `attempts` included (the harness keeps code and message only). */
interface Seen {
  code: string;
  message: string;
  attempts?: { transport: string; reason: string }[];
}

/** Starts the page's client on `url` and records every error it emits, with its attempts. */
async function startRecording(page: Page, url: string, options: Record<string, unknown>): Promise<void> {
  await page.evaluate(
    ([u, o]) => {
      window.harness.start(u, o);
      const seen: Seen[] = [];
      (window as unknown as { seen: Seen[] }).seen = seen;
      window.harness.client!.on('error', (error) => {
        const { code, message, attempts } = error as Seen;
        seen.push({ code, message, attempts });
      });
    },
    [url, options] as const,
  );
}

/** Waits for the first error of `code` and returns it. */
async function firstError(page: Page, code: string): Promise<Seen> {
  await page.waitForFunction((c) => (window as unknown as { seen: Seen[] }).seen.some((e) => e.code === c), code, {
    timeout: 15_000,
    polling: 25,
  });
  return page.evaluate((c) => (window as unknown as { seen: Seen[] }).seen.find((e) => e.code === c)!, code);
}

/** Collects the page's console lines, to prove the browser blamed no CORS policy. */
function consoleLines(page: Page): string[] {
  const lines: string[] = [];
  page.on('console', (message) => lines.push(message.text()));
  return lines;
}

const serverLog: string[] = [];

for (const build of scriptTagBuilds) {
  test.describe(`first contact (${build})`, () => {
    test.use({ serverOptions: { log: (message: string) => serverLog.push(message) } });

    test('a URL without the base path fails with /connect: HTTP 404 NOT_FOUND and, in development, the /rt fix', async ({
      page,
      openPage,
      server,
    }) => {
      const lines = consoleLines(page);
      await openPage(build);
      const origin = new URL(server.url).origin;
      // A token makes /connect a preflighted request: the preflight outside the base path passes too.
      await startRecording(page, origin, { ...quickReconnect, token: 't' });
      const failed = await firstError(page, 'CONNECT_FAILED');
      expect(failed.attempts).toEqual(
        expect.arrayContaining([
          { transport: 'sse', reason: '/connect: HTTP 404 NOT_FOUND' },
          { transport: 'longpoll', reason: '/connect: HTTP 404 NOT_FOUND' },
        ]),
      );
      if (build === 'dev') {
        expect(failed.message).toContain('/connect: HTTP 404 NOT_FOUND');
        expect(failed.message).toContain(`under /rt by default (e.g. ${origin}/rt)`);
      } else {
        expect(failed.message).toBe('CONNECT_FAILED');
      }
      expect(lines.filter((line) => /CORS/i.test(line))).toEqual([]);
    });

    test('a server that is down (nothing on the port) fails with CONNECT_FAILED, each transport saying what it saw', async ({
      page,
      openPage,
    }) => {
      await openPage(build);
      // A port that was just free: bound, then closed, so nothing listens there.
      const probe = createNetServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const { port } = probe.address() as AddressInfo;
      await new Promise((resolve) => probe.close(resolve));
      const url = `http://127.0.0.1:${port}/rt`;
      await startRecording(page, url, quickReconnect);
      const failed = await firstError(page, 'CONNECT_FAILED');
      expect(failed.attempts!.map((attempt) => attempt.transport).sort()).toEqual(['longpoll', 'sse', 'websocket']);
      if (build === 'dev') expect(failed.message).toContain(`Is the server running and reachable at ${url}?`);
      else expect(failed.message).toBe('CONNECT_FAILED');
    });

    for (const transport of ['sse', 'longpoll'] as const) {
      test(`a refused origin reaches the app as ORIGIN_NOT_ALLOWED over ${transport}, and the server logs the flag`, async ({
        page,
        openPage,
        server,
        faultProxy,
      }) => {
        const lines = consoleLines(page);
        await openPage(build);
        const pageOrigin = new URL(faultProxy.url).origin;
        await startRecording(page, server.url, { ...quickReconnect, transports: [transport], token: 't' });
        const refused = await firstError(page, 'ORIGIN_NOT_ALLOWED');
        expect(refused.message).toContain(`/connect: HTTP 403 ORIGIN_NOT_ALLOWED`);
        const failed = await firstError(page, 'CONNECT_FAILED');
        expect(failed.attempts).toEqual([{ transport, reason: '/connect: HTTP 403 ORIGIN_NOT_ALLOWED' }]);
        if (build === 'dev') expect(failed.message).toContain(`--allow-origin ${pageOrigin}`);
        expect(lines.filter((line) => /CORS/i.test(line))).toEqual([]);
        expect(serverLog.some((line) => line.includes(`--allow-origin ${pageOrigin}`))).toBe(true);
      });
    }
  });

  test.describe(`first contact, refused token (${build})`, () => {
    test.use({ serverOptions: { allowOrigins: ['*'], authenticate: () => false } });

    for (const transport of ['sse', 'longpoll'] as const) {
      test(`a refused token reaches the app as UNAUTHORIZED over ${transport}`, async ({ page, openPage, server }) => {
        const lines = consoleLines(page);
        await openPage(build);
        await startRecording(page, server.url, { ...quickReconnect, transports: [transport], token: 'wrong' });
        const refused = await firstError(page, 'UNAUTHORIZED');
        expect(refused.message).toContain('/connect: HTTP 401 UNAUTHORIZED');
        const failed = await firstError(page, 'CONNECT_FAILED');
        expect(failed.attempts).toEqual([{ transport, reason: '/connect: HTTP 401 UNAUTHORIZED' }]);
        if (build === 'dev') expect(failed.message).toContain('The server refused the token');
        expect(lines.filter((line) => /CORS/i.test(line))).toEqual([]);
      });
    }
  });
}
