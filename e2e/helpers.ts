import { expect, type Page } from '@playwright/test';
import type { PageCursor, Received } from './page/harness.js';

/** Transport names as the client takes them in `transports`. */
export type TransportName = 'websocket' | 'sse' | 'longpoll';

/** Every transport, for specs that run once per transport. */
export const transportNames: readonly TransportName[] = ['websocket', 'sse', 'longpoll'];

/**
 * Reconnect quickly so recovery fits in a test; the values are still within what a real
 * deployment might choose.
 */
export const quickReconnect = { reconnect: { initialDelay: 50, maxDelay: 500 } };

/** Creates the page's client (window.harness.start). */
export async function startClient(page: Page, url: string, options: Record<string, unknown> = {}): Promise<void> {
  await page.evaluate(([u, o]) => window.harness.start(u, o), [url, options] as const);
}

/** Subscribes the page's client to `channel`, resuming after `since` when given. */
export async function subscribe(page: Page, channel: string, since?: PageCursor): Promise<void> {
  await page.evaluate(([c, s]) => window.harness.subscribe(c, s ?? undefined), [channel, since ?? null] as const);
}

/** Messages delivered on `channel` so far. */
export const messages = (page: Page, channel: string): Promise<Received[]> =>
  page.evaluate((c) => window.harness.messages[c] ?? [], channel);

/** What the page's client is doing, for failure messages. */
export const describeClient = (page: Page): Promise<string> =>
  page.evaluate(() => {
    const h = window.harness;
    const errors = [...new Set(h.errors.map((e) => e.code))].join(', ') || 'none';
    return `state ${h.client?.state}, transport ${h.client?.transport}, errors: ${errors}`;
  });

/** Runs `wait`; on failure, rethrows with `what` and the client's state in the message. */
async function explained(page: Page, what: string, wait: Promise<unknown>): Promise<void> {
  try {
    await wait;
  } catch (error) {
    const client = await describeClient(page).catch(() => 'page gone');
    throw new Error(`${what}: ${(error as Error).message.split('\n')[0]} (client: ${client})`);
  }
}

/** Waits until at least `count` messages were delivered on `channel`; returns them all. */
export async function waitForMessages(page: Page, channel: string, count: number, timeout = 15_000): Promise<Received[]> {
  const wait = page.waitForFunction(([c, n]) => (window.harness.messages[c]?.length ?? 0) >= n, [channel, count] as const, {
    timeout,
    polling: 50,
  });
  await explained(page, `waiting for ${count} messages on "${channel}"`, wait);
  return messages(page, channel);
}

/** Waits until the client reports state 'open' and returns the transport it is on. */
export async function waitForOpen(page: Page, timeout = 15_000): Promise<string | null> {
  await explained(
    page,
    'waiting for state open',
    page.waitForFunction(() => window.harness.client?.state === 'open', undefined, { timeout, polling: 25 }),
  );
  return page.evaluate(() => window.harness.client!.transport);
}

/** Asserts the delivered seqs are exactly `first..last`, once each, in order. */
export function expectExactlyOnce(received: readonly Pick<Received, 'seq'>[], first: number, last: number): void {
  const seqs = received.map((m) => m.seq);
  const duplicates = seqs.length - new Set(seqs).size;
  const expected = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  const missing = expected.filter((seq) => !seqs.includes(seq));
  expect({ duplicates, missing: missing.length, inOrder: seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!) }).toEqual({
    duplicates: 0,
    missing: 0,
    inOrder: true,
  });
  expect(seqs).toEqual(expected);
}
