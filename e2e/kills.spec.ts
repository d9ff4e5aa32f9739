// Connections killed at random while traffic flows, once per forced transport: the
// application still sees every message exactly once and in order, and every publish lands
// in the log exactly once.
import type { LinkKind } from './fault-proxy.js';
import { test, expect } from './fixtures.js';
import {
  expectExactlyOnce,
  quickReconnect,
  startClient,
  subscribe,
  transportNames,
  waitForMessages,
  waitForOpen,
  type TransportName,
} from './helpers.js';

/** The proxy exchanges that carry each transport (SSE and long polling also POST /send). */
const carriers: Record<TransportName, LinkKind[]> = {
  websocket: ['websocket'],
  sse: ['sse', 'http'],
  longpoll: ['http'],
};

const TOTAL = 1_000;

for (const transport of transportNames) {
  test(`${transport}: random kills while ${TOTAL} messages stream${transport === 'websocket' ? ' (each also sent twice)' : ''} — none lost, none repeated, order kept`, async ({
    page,
    openPage,
    rtUrl,
    server,
    faultProxy,
  }) => {
    // On WebSocket the proxy also delivers every message twice: repeats the client must drop.
    faultProxy.set({ duplicateWebSocketMessages: transport === 'websocket' });
    const first = await server.publish('stream', 1);
    await openPage();
    await startClient(page, rtUrl, { transports: [transport], ...quickReconnect });
    await subscribe(page, 'stream', { epoch: first.epoch, seq: 0 });
    expect(await waitForOpen(page)).toBe(transport);
    await waitForMessages(page, 'stream', 1);

    const stop = faultProxy.killRandomly({ everyMs: 150, kinds: carriers[transport] });
    // About 5 s of traffic: 10 messages every 50 ms, so kills land mid-stream.
    for (let n = 2; n <= TOTAL; n += 10) {
      for (let i = n; i < Math.min(n + 10, TOTAL + 1); i++) await server.publish('stream', i);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    stop();
    const kills = faultProxy.stats.kills;
    test.info().annotations.push({ type: 'kills', description: String(kills) });
    console.log(`[kills] ${transport}: ${kills} connections killed during the stream`);
    expect(kills).toBeGreaterThanOrEqual(4);

    await waitForMessages(page, 'stream', TOTAL, 30_000);
    // One more message after the storm: anything still queued twice would show up before it.
    await server.publish('stream', TOTAL + 1);
    const received = await waitForMessages(page, 'stream', TOTAL + 1);
    expectExactlyOnce(received, 1, TOTAL + 1);
    expect(received.map((m) => m.data)).toEqual(received.map((m) => m.seq));
    expect(await page.evaluate(() => window.harness.gaps.stream?.length ?? 0)).toBe(0);
    // The server batches what is ready into one frame: each repeated frame repeats a batch.
    if (transport === 'websocket') expect(faultProxy.stats.duplicated).toBeGreaterThanOrEqual(20);
  });
}

for (const transport of transportNames) {
  test(`${transport}: a page publishing through repeated drops — each payload lands once, every publish resolves`, async ({
    page,
    context,
    openPage,
    rtUrl,
    server,
    faultProxy,
  }) => {
    const COUNT = 60;
    const first = await server.publish('chat', 'seed');
    const reader = await openPage('index', await context.newPage());
    await startClient(reader, rtUrl, { transports: ['websocket'], ...quickReconnect });
    await subscribe(reader, 'chat', { epoch: first.epoch, seq: 0 });
    await waitForMessages(reader, 'chat', 1);

    await openPage('index', page);
    await startClient(page, rtUrl, { transports: [transport], ...quickReconnect });
    expect(await waitForOpen(page)).toBe(transport);
    const stop = faultProxy.killRandomly({ everyMs: 100, kinds: carriers[transport] });
    // Publishes go out in waves for about 2 s while connections die under them.
    for (let wave = 0; wave < COUNT / 6; wave++) {
      await page.evaluate((w) => {
        for (let i = 0; i < 6; i++) void window.harness.publish(`m${w * 6 + i}`, 'chat', `payload-${w * 6 + i}`);
      }, wave);
      await page.waitForTimeout(200);
    }
    stop();
    const settled = page.waitForFunction((n) => Object.keys(window.harness.published).length >= n, COUNT, { timeout: 30_000 });
    await settled.catch(async (error: Error) => {
      const where = await page.evaluate(() => ({
        settled: Object.keys(window.harness.published).length,
        state: window.harness.client!.state,
        transport: window.harness.client!.transport,
        errors: [...new Set(window.harness.errors.map((e) => `${e.code}: ${e.message}`))],
      }));
      throw new Error(`${error.message}\nclient: ${JSON.stringify(where)}`);
    });
    const kills = faultProxy.stats.kills;
    test.info().annotations.push({ type: 'kills', description: String(kills) });
    expect(kills).toBeGreaterThanOrEqual(3);

    const outcomes = await page.evaluate(() => Object.values(window.harness.published));
    expect(outcomes.filter((o) => !('ok' in o))).toEqual([]);
    const seqs = outcomes.map((o) => ('ok' in o ? o.ok.seq : -1));
    // Exactly once into the log: COUNT distinct seqs right after the seed, no holes.
    expect(new Set(seqs).size).toBe(COUNT);
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: COUNT }, (_, i) => i + 2));

    const received = await waitForMessages(reader, 'chat', COUNT + 1, 20_000);
    const payloads = received.slice(1).map((m) => m.data as string);
    expect(new Set(payloads).size).toBe(COUNT);
    expect(payloads).toHaveLength(COUNT);
    expectExactlyOnce(received, 1, COUNT + 1);
  });
}
