import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test as base, type Page } from '@playwright/test';
import { buildAssets, type Assets } from './assets.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { API_KEY } from './server-process.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The slice of the reference server (dist/server.js) the fixtures drive. */
export interface InProcessServer {
  /** Direct base URL, e.g. `http://127.0.0.1:4123/rt` (pages use the proxy instead). */
  url: string;
  /** Publishes from the backend side. */
  publish(channel: string, data: unknown): Promise<{ seq: number; epoch: string }>;
  /** Open client connections, all transports. */
  connections(): number;
  close(): Promise<void>;
}

interface ServerModule {
  createServer(options: Record<string, unknown>): {
    listen(port: number, host: string): Promise<{ url: string }> | { url: string };
    publish(channel: string, data: unknown): Promise<{ seq: number; epoch: string }>;
    readonly connections: number;
    close(): Promise<void> | void;
  };
}

/** Starts the built reference server in this process on 127.0.0.1, port 0. */
export async function startInProcessServer(options: Record<string, unknown> = {}): Promise<InProcessServer> {
  const { createServer } = (await import(pathToFileURL(join(root, 'dist', 'server.js')).href)) as ServerModule;
  const server = createServer({ apiKey: API_KEY, ...options });
  const { url } = await server.listen(0, '127.0.0.1');
  return {
    url: url.replace(/\/$/, ''),
    publish: (channel, data) => server.publish(channel, data),
    connections: () => server.connections,
    close: async () => void (await server.close()),
  };
}

/** The test pages: the script tag's production and development files, and a bundled app. */
export type PageBuild = 'index' | 'dev' | 'spa';
/** The two script-tag pages, for specs that run on both builds. */
export const scriptTagBuilds = ['index', 'dev'] as const;

interface WorkerFixtures {
  /** The test pages, built once per worker from dist/. */
  assets: Assets;
}

interface TestFixtures {
  /** Options for the in-process server of this test. @default {} */
  serverOptions: Record<string, unknown>;
  /** The reference server, in this process. */
  server: InProcessServer;
  /** The fault proxy in front of {@link TestFixtures.server}; it also serves the test pages.
   * (Not `proxy`: that name is Playwright's browser proxy option.) */
  faultProxy: FaultProxy;
  /** The client's base URL through the proxy: same origin as the page. */
  rtUrl: string;
  /**
   * Opens a test page through the proxy: `index` (the production IIFE by script tag), `dev`
   * (the development IIFE) or `spa` (the ESM build bundled into an app), on `target` (the
   * fixture page by default).
   */
  openPage(build?: PageBuild, target?: Page): Promise<Page>;
}

/** Playwright's `test` with the Lifeline fixtures. */
export const test = base.extend<TestFixtures, WorkerFixtures>({
  assets: [async ({}, use) => use(await buildAssets()), { scope: 'worker' }],
  serverOptions: [{}, { option: true }],
  server: async ({ serverOptions }, use) => {
    const server = await startInProcessServer(serverOptions);
    await use(server);
    await server.close();
  },
  faultProxy: async ({ server, assets }, use) => {
    const proxy = await startFaultProxy({ target: new URL(server.url).origin, serve: serveFrom(assets) });
    await use(proxy);
    await proxy.close();
  },
  rtUrl: async ({ faultProxy: proxy, server }, use) => use(proxy.url + new URL(server.url).pathname),
  openPage: async ({ page, faultProxy: proxy }, use) => {
    await use(async (build = 'index', target = page) => {
      await target.goto(`${proxy.url}/e2e/${build}.html`);
      await target.waitForFunction(() => typeof window.harness === 'object');
      return target;
    });
  },
});

/** A proxy `serve` hook answering the asset paths and nothing else. */
export function serveFrom(assets: Assets) {
  return (req: { url?: string }, res: { writeHead(status: number, headers: Record<string, string>): { end(body: string): void } }) => {
    const asset = assets.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!asset) return false;
    // no-cache, not no-store: a no-store page is never put in the back/forward cache.
    res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' }).end(asset.body);
    return true;
  };
}

export { expect } from '@playwright/test';
