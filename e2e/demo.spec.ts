// The demo behind `npm start`, driven in Chromium: the built CLI serves the page and the
// script-tag bundle (`--demo`), demo/ticker.js publishes to `ticker` over the HTTP API as
// scripts/start.js does, and the page must show a working chat, a live ticker, transport
// switching and a resume that replays without duplicates, and tell its own story: a hint of what
// to try, an outage that visibly replays, reconnects shown calmly, a layout that fits a phone.
import { writeFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { startTicker } from '../demo/ticker.js';
import { API_KEY, startServerProcess, type ServerProcess } from './server-process.js';

let server: ServerProcess;
let ticker: { stop(): void };

test.beforeAll(async () => {
  server = await startServerProcess({ args: ['--demo'] });
  // Faster than the demo's 1 s so a short outage has plenty to replay.
  ticker = startTicker({ url: server.url, apiKey: API_KEY, interval: 200, onError: () => {} });
});

test.afterAll(async () => {
  ticker?.stop();
  await server?.kill('SIGTERM');
});

const origin = () => new URL(server.url).origin;
const count = async (page: Page, name: string) => Number(await page.getByTestId(`count-${name}`).textContent());

async function openDemo(page: Page): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(origin() + '/');
  await expect(page.getByTestId('state')).toHaveText('open', { timeout: 15_000 });
  expect(errors).toEqual([]);
}

/** Log lines styled as errors (red): an expected reconnect must produce none. */
const errorLines = (page: Page) => page.getByTestId('log').locator('li.error');

async function chatRoundTrip(page: Page, text: string): Promise<void> {
  const acked = await count(page, 'published');
  await page.getByTestId('chat-text').fill(text);
  await page.getByTestId('chat-send').click();
  await expect(page.getByTestId('chat-list')).toContainText(text, { timeout: 15_000 });
  await expect(page.getByTestId('count-published')).toHaveText(String(acked + 1));
}

async function tickerMoves(page: Page): Promise<void> {
  await expect(page.getByTestId('ticker-n')).toHaveText(/^\d+$/, { timeout: 10_000 });
  const first = Number(await page.getByTestId('ticker-n').textContent());
  await expect.poll(async () => Number(await page.getByTestId('ticker-n').textContent()), { timeout: 10_000 }).toBeGreaterThan(first);
  await expect(page.getByTestId('ticker-price')).toHaveText(/^\d+\.\d\d$/);
}

test('the page connects over WebSocket, chats round-trip between two tabs and the ticker ticks', async ({ page, context }) => {
  await openDemo(page);
  await expect(page.getByTestId('transport')).toHaveText('websocket');
  await tickerMoves(page);
  const other = await context.newPage();
  await openDemo(other);
  await chatRoundTrip(page, 'hello from tab one');
  await expect(other.getByTestId('chat-list')).toContainText('hello from tab one');
  expect(await count(page, 'received')).toBeGreaterThan(1);
  expect(await count(page, 'leaked')).toBe(0);
  await other.close();
});

for (const [button, name] of [
  ['SSE', 'sse'],
  ['Long polling', 'longpoll'],
  ['WebSocket', 'websocket'],
] as const) {
  test(`forcing ${name} reconnects on it and resumes; chat and ticker work, also after a dropped connection`, async ({ page }) => {
    await openDemo(page);
    await tickerMoves(page);
    await page.getByRole('button', { name: button, exact: true }).click();
    await expect(page.getByTestId('transport')).toHaveText(name, { timeout: 15_000 });
    await expect(page.getByTestId('state')).toHaveText('open');
    await tickerMoves(page);
    await chatRoundTrip(page, `hello over ${name}`);
    // Kill the live connection under the client: it comes back on the same transport and resumes.
    await page.getByTestId('drop').click();
    await expect(page.getByTestId('log')).toContainText(/drop: [1-9]\d* connection/);
    await expect(page.getByTestId('log')).toContainText('state open → reconnecting', { timeout: 10_000 });
    await expect(page.getByTestId('state')).toHaveText('open', { timeout: 15_000 });
    await expect(page.getByTestId('transport')).toHaveText(name);
    await tickerMoves(page);
    await chatRoundTrip(page, `hello again over ${name}`);
    expect(await count(page, 'leaked')).toBe(0);
    expect(await count(page, 'gaps')).toBe(0);
    await expect(errorLines(page)).toHaveCount(0);
  });
}

test('the page says what to try, and the control it names is there', async ({ page }) => {
  await openDemo(page);
  const hint = page.getByTestId('hint');
  await expect(hint).toBeVisible();
  await expect(hint).toContainText('Go offline for 5 s');
  await expect(hint).toContainText('replayed after a resume');
  await expect(page.getByTestId('offline')).toHaveText('Go offline for 5 s');
});

for (const [button, name] of [
  ['Auto', 'websocket'],
  ['Long polling', 'longpoll'],
] as const) {
  test(`an outage on ${name} replays what was missed, calmly, and no duplicate reaches the app`, async ({ page }) => {
    await openDemo(page);
    await page.getByRole('button', { name: button, exact: true }).click();
    await expect(page.getByTestId('transport')).toHaveText(name, { timeout: 15_000 });
    await tickerMoves(page);
    const tickBefore = Number(await page.getByTestId('ticker-n').textContent());
    // Forcing a transport is itself a resume, so count from here.
    const replayedBefore = await count(page, 'replayed');
    await page.getByTestId('offline').click();
    // During the outage: a calm state, not an error.
    await expect(page.getByTestId('state')).toHaveText('reconnecting', { timeout: 5_000 });
    await expect(page.getByTestId('status')).toContainText('offline');
    await expect(page.getByTestId('offline')).toBeDisabled();
    await expect(page.getByTestId('log')).toContainText('back online', { timeout: 15_000 });
    await expect(page.getByTestId('state')).toHaveText('open', { timeout: 15_000 });
    // Ticks published during the outage come back through the resume.
    await expect.poll(() => count(page, 'replayed'), { timeout: 15_000 }).toBeGreaterThan(replayedBefore);
    await tickerMoves(page);
    expect(Number(await page.getByTestId('ticker-n').textContent())).toBeGreaterThan(tickBefore);
    expect(await count(page, 'leaked')).toBe(0);
    expect(await count(page, 'gaps')).toBe(0);
    await expect(errorLines(page)).toHaveCount(0);
    // The client spent no attempt on the dead network and reconnected on `online`: no attempt
    // failed, so it did not sit out a backoff grown during the outage.
    await expect(page.getByTestId('log')).not.toContainText('CONNECT_FAILED');
    await expect(page.getByTestId('log')).not.toContainText('CONNECT_TIMEOUT');
    await expect(page.getByTestId('status')).toContainText('live');
  });
}

test('at 390 px wide the page fits without sideways scrolling, the hint on the first screen', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openDemo(page);
  await tickerMoves(page);
  await chatRoundTrip(page, 'a message long enough to wrap on a narrow phone screen, and then some more words');
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  const hint = await page.getByTestId('hint').boundingBox();
  expect(hint!.y).toBeLessThan(844);
  await expect(page.getByTestId('offline')).toBeInViewport();
  // Still fits with the outage's longest texts on screen.
  await page.getByTestId('offline').click();
  await expect(page.getByTestId('status')).toContainText('offline');
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  const png = await page.screenshot({ fullPage: true });
  await testInfo.attach('demo-390', { body: png, contentType: 'image/png' });
});

for (const [button, name] of [
  ['WebSocket', 'websocket'],
  ['SSE', 'sse'],
] as const) {
  test(`a message delivered twice over ${name} is dropped by the client and never shown twice`, async ({ page }) => {
    await openDemo(page);
    await page.getByRole('button', { name: button, exact: true }).click();
    await expect(page.getByTestId('transport')).toHaveText(name, { timeout: 15_000 });
    await chatRoundTrip(page, `only once over ${name}`);
    await tickerMoves(page);
    const duplicates = await count(page, 'duplicates');
    await page.getByTestId('redeliver').click();
    await expect(page.getByTestId('log')).toContainText('delivering the last server message again');
    await expect.poll(() => count(page, 'duplicates')).toBeGreaterThan(duplicates);
    // The page counts any message at or below what it already has as leaked: the client let none through.
    expect(await count(page, 'leaked')).toBe(0);
    await expect(page.getByTestId('chat-list').getByText(`only once over ${name}`)).toHaveCount(1);
  });
}

test('a screenshot of the working demo is a real picture', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 1200, height: 800 });
  await openDemo(page);
  await tickerMoves(page);
  await chatRoundTrip(page, 'screenshot time');
  // Let the chart gather a few points.
  await expect.poll(() => count(page, 'received'), { timeout: 10_000 }).toBeGreaterThan(12);
  await page.getByTestId('redeliver').click();
  await expect.poll(() => count(page, 'duplicates')).toBeGreaterThan(0);
  const png = await page.screenshot({ fullPage: true });
  writeFileSync(testInfo.outputPath('demo.png'), png);
  await testInfo.attach('demo', { body: png, contentType: 'image/png' });
  expect(png.length).toBeGreaterThan(20_000);
  // Decode it in the browser and count colours: a blank or one-colour page has a handful.
  const colours = await page.evaluate(async (base64) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d')!;
    context.drawImage(image, 0, 0);
    const { data } = context.getImageData(0, 0, image.width, image.height);
    const seen = new Set<number>();
    for (let i = 0; i < data.length; i += 4) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
    return seen.size;
  }, png.toString('base64'));
  expect(colours).toBeGreaterThan(50);
});
