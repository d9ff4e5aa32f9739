// What a real server never sends: the client against a scripted server living in the test
// (page.routeWebSocket and page.route), through the built IIFE in Chromium.
import { test, expect } from './fixtures.js';
import { quickReconnect, startClient, subscribe, waitForMessages, waitForOpen } from './helpers.js';
import { MOCK_ORIGIN, MOCK_URL, MockServer, type MockConnection } from './mock-server.js';

const msg = (seq: number, epoch = 'E1', channel = 'c') => ({ type: 'msg', channel, epoch, seq, data: `${epoch}:${seq}` });
const subscribed = (seq: number, epoch = 'E1', channel = 'c') => ({ type: 'subscribed', channel, epoch, seq });
const subFrames = (connection: MockConnection) => connection.received.filter((frame) => frame.type === 'sub');

let mock: MockServer;

test.beforeEach(async ({ page, assets }) => {
  mock = new MockServer();
  await mock.install(page, assets);
  await page.goto(`${MOCK_ORIGIN}/e2e/index.html`);
});

/** Waits for the client's first `sub` on the newest connection, then answers it with `frames`. */
async function answerFirstSub(...frames: { type: string; [field: string]: unknown }[]) {
  await expect.poll(() => (mock.last ? subFrames(mock.last).length : 0)).toBeGreaterThan(0);
  mock.last!.send(...frames);
}

test('malformed frames become error events with stable codes, and the client reconnects', async ({ page }) => {
  // What both builds catch: not JSON, not an array, a frame that is not an object.
  const bad = ['this is not json', '{"type":"msg"}', '[42]'];
  mock.onConnect = (connection) => {
    connection.welcome();
    const payload = bad[connection.index - 1];
    if (payload) connection.sendRaw(payload);
  };
  await startClient(page, MOCK_URL, { transports: ['websocket'], ...quickReconnect });
  await subscribe(page, 'c');
  await expect.poll(() => mock.connections.length, { timeout: 10_000 }).toBe(4);
  await waitForOpen(page);
  const codes = await page.evaluate(() => window.harness.errors.map((e) => e.code));
  expect(codes.filter((code) => code === 'BAD_JSON' || code === 'BAD_FRAME')).toEqual(['BAD_JSON', 'BAD_FRAME', 'BAD_FRAME']);
  // Every new connection asks for the subscription again, and the fourth one works.
  await expect.poll(() => subFrames(mock.connections[3]!).length).toBe(1);
  mock.connections[3]!.send(subscribed(0), msg(1));
  expect((await waitForMessages(page, 'c', 1)).map((m) => m.data)).toEqual(['E1:1']);
});

test('the development build checks every field of a frame and names the bad one', async ({ page }) => {
  await page.goto(`${MOCK_ORIGIN}/e2e/dev.html`);
  mock.onConnect = (connection) => {
    connection.welcome();
    if (connection.index === 1) connection.sendRaw('[{"type":"msg","channel":"c","epoch":"E1","seq":"one","data":1}]');
  };
  await startClient(page, MOCK_URL, { transports: ['websocket'], ...quickReconnect });
  await subscribe(page, 'c');
  await expect.poll(() => mock.connections.length, { timeout: 10_000 }).toBe(2);
  await waitForOpen(page);
  const errors = await page.evaluate(() => window.harness.errors.map((e) => `${e.code} ${e.message}`));
  expect(errors.filter((text) => text.startsWith('BAD_FRAME'))).toEqual([expect.stringContaining('bad msg.seq')]);
});

test('fields a server adds to a frame never reach the app', async ({ page }) => {
  await startClient(page, MOCK_URL, { transports: ['websocket'], ...quickReconnect });
  const from = { epoch: 'E0', seq: 4 };
  await subscribe(page, 'c', from);
  // The same subscription (subscribe returns the active one): its message listener sees the meta.
  await page.evaluate(() => {
    const metas: unknown[] = [];
    (window as { metas?: unknown[] }).metas = metas;
    window.harness.client!.subscribe('c').on('message', (_data, meta) => metas.push(meta));
  });
  await answerFirstSub({ type: 'gap', channel: 'c', epoch: 'E1', seq: 0, reason: 'epoch', from, rid: 7 }, { ...msg(1), extra: true });
  expect((await waitForMessages(page, 'c', 1)).map((m) => m.data)).toEqual(['E1:1']);
  expect(await page.evaluate(() => window.harness.gaps.c!.map((gap) => gap.info))).toEqual([
    { channel: 'c', epoch: 'E1', seq: 0, reason: 'epoch', from },
  ]);
  expect(await page.evaluate(() => (window as { metas?: unknown[] }).metas)).toEqual([{ channel: 'c', epoch: 'E1', seq: 1 }]);
});

test('a seq going backwards is dropped, not delivered twice', async ({ page }) => {
  await startClient(page, MOCK_URL, { transports: ['websocket'], ...quickReconnect });
  await subscribe(page, 'c');
  await answerFirstSub(subscribed(0), msg(1), msg(2), msg(3));
  mock.last!.send(msg(2));
  mock.last!.send(msg(1), msg(3));
  mock.last!.send(msg(4));
  const received = await waitForMessages(page, 'c', 4);
  expect(received.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  expect(mock.connections).toHaveLength(1);
});

test('a seq jump makes the client resubscribe after its cursor, and the hole is filled in order', async ({ page }) => {
  await startClient(page, MOCK_URL, { transports: ['websocket'], ...quickReconnect });
  await subscribe(page, 'c');
  await answerFirstSub(subscribed(0), msg(1), msg(2), msg(5));
  // The repair may come on the same connection or on a new one: look at all of them.
  const repair = () =>
    mock.connections.flatMap((c) =>
      subFrames(c)
        .filter((f) => f.since)
        .map((f) => ({ c, since: f.since })),
    );
  await expect.poll(() => repair().length, { timeout: 10_000 }).toBeGreaterThan(0);
  const [{ c, since }] = repair() as [{ c: MockConnection; since: unknown }];
  expect(since).toEqual({ epoch: 'E1', seq: 2 });
  c.send(subscribed(2), msg(3), msg(4), msg(5), msg(6));
  // 5 arrived early once and must not have been delivered then, nor twice now.
  expect((await waitForMessages(page, 'c', 6)).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
});

test('an epoch change after a reconnect is reported as a gap, then the new history flows', async ({ page }) => {
  await startClient(page, MOCK_URL, { transports: ['websocket'], ...quickReconnect });
  await subscribe(page, 'c');
  await answerFirstSub(subscribed(0), msg(1), msg(2), msg(3));
  await waitForMessages(page, 'c', 3);
  mock.last!.close(1012);
  await expect.poll(() => mock.connections.length).toBe(2);
  await expect.poll(() => subFrames(mock.last!).length).toBe(1);
  expect(subFrames(mock.last!)[0]!.since).toEqual({ epoch: 'E1', seq: 3 });
  mock.last!.send(
    { type: 'gap', channel: 'c', epoch: 'E2', seq: 0, reason: 'epoch', from: { epoch: 'E1', seq: 3 } },
    msg(1, 'E2'),
    msg(2, 'E2'),
  );
  const received = await waitForMessages(page, 'c', 5);
  expect(received.map((m) => m.data)).toEqual(['E1:1', 'E1:2', 'E1:3', 'E2:1', 'E2:2']);
  const gaps = await page.evaluate(() => window.harness.gaps.c!.map((g) => g.info));
  expect(gaps).toHaveLength(1);
  expect(gaps[0]).toMatchObject({ reason: 'epoch' });
});

test('a WebSocket closed before the welcome fails over to long polling at once', async ({ page }) => {
  mock.onConnect = (connection) => (connection.transport === 'websocket' ? connection.close(1011) : connection.welcome());
  await startClient(page, MOCK_URL, { transports: ['websocket', 'longpoll'], ...quickReconnect });
  expect(await waitForOpen(page)).toBe('longpoll');
  const elapsed = await page.evaluate(() => window.harness.states.find((s) => s.to === 'open')!.t - window.harness.startedAt);
  test.info().annotations.push({ type: 'time to open (ms)', description: elapsed.toFixed(0) });
  expect(elapsed).toBeLessThan(2_000);
  expect(mock.connections.map((c) => c.transport)).toEqual(['websocket', 'longpoll']);
});

test('a server that accepts but never welcomes is left for the next transport', async ({ page }) => {
  mock.onConnect = (connection) => connection.transport === 'longpoll' && connection.welcome();
  await startClient(page, MOCK_URL, { transports: ['websocket', 'longpoll'], ...quickReconnect });
  await subscribe(page, 'c');
  expect(await waitForOpen(page)).toBe('longpoll');
  const elapsed = await page.evaluate(() => window.harness.states.find((s) => s.to === 'open')!.t - window.harness.startedAt);
  test.info().annotations.push({ type: 'time to open (ms)', description: elapsed.toFixed(0) });
  // The stagger is at most 1 s by default; the platform's own handshake timeout is 240 s.
  expect(elapsed).toBeLessThan(3_000);
  // The silent WebSocket is closed once long polling won, and it never saw a subscription.
  await expect.poll(() => mock.connections[0]!.closed).toBe(true);
  expect(subFrames(mock.connections[0]!)).toHaveLength(0);
  await answerFirstSub(subscribed(0), msg(1));
  expect((await waitForMessages(page, 'c', 1))[0]!.seq).toBe(1);
});

test('a WebSocket-only client whose server never welcomes times out, reports it and retries', async ({ page }) => {
  mock.onConnect = () => undefined;
  await startClient(page, MOCK_URL, { transports: ['websocket'], connectTimeout: 1_000, ...quickReconnect });
  await expect.poll(() => mock.connections.length, { timeout: 6_000 }).toBeGreaterThanOrEqual(2);
  expect(mock.connections[0]!.closed).toBe(true);
  const seen = await page.evaluate(() => ({
    errors: window.harness.errors.map((e) => e.code),
    opened: window.harness.states.some((s) => s.to === 'open'),
  }));
  expect(seen.opened).toBe(false);
  expect(seen.errors).toContain('CONNECT_TIMEOUT');
});

test('long polls answering 500, 204 and a captive-portal page are failed transports, not messages', async ({ page }) => {
  const answers = [
    { status: 500, contentType: 'text/plain', body: 'internal error' },
    { status: 204, body: '' },
    { status: 200, contentType: 'text/html', body: '<html><body><form>Accept the terms to use the Wi-Fi</form></body></html>' },
  ];
  mock.onFirstPoll = async (route, connection) => {
    const answer = answers[connection.index - 1];
    if (!answer) return false;
    await route.fulfill(answer);
    return true;
  };
  await startClient(page, MOCK_URL, { transports: ['longpoll'], ...quickReconnect });
  await subscribe(page, 'c');
  expect(await waitForOpen(page)).toBe('longpoll');
  expect(mock.connections).toHaveLength(4);
  // Never open before the fourth connection: a 204 or an HTML page is no welcome.
  const opens = await page.evaluate(() => window.harness.states.filter((s) => s.to === 'open').length);
  expect(opens).toBe(1);
  // Each refused connection is one failed attempt, reported as such.
  expect(await page.evaluate(() => window.harness.errors.map((e) => e.code))).toEqual([
    'CONNECT_FAILED',
    'CONNECT_FAILED',
    'CONNECT_FAILED',
  ]);
  await answerFirstSub(subscribed(0), msg(1), msg(2));
  expect((await waitForMessages(page, 'c', 2)).map((m) => m.seq)).toEqual([1, 2]);
});
