// Page life: online retries at once, offline burns no attempts, pagehide closes cleanly,
// pageshow reconnects and resumes, close() removes every listener.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeClient, flush } from '../helpers/fake-transport.js';
import { fakePage } from '../helpers/fake-page.js';

let page: ReturnType<typeof fakePage>;
beforeEach(() => {
  vi.useFakeTimers();
  page = fakePage();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('page life', () => {
  it('retries at once on online instead of waiting out the backoff', async () => {
    const { client, fake } = fakeClient({ reconnect: { initialDelay: 60_000, maxDelay: 60_000 } }, ['websocket']);
    await flush();
    fake.last().fail();
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.connections).toHaveLength(1);
    page.fire('online');
    await flush();
    expect(fake.connections).toHaveLength(2);
    // Not a second attempt beside the one in progress.
    page.fire('online');
    await flush();
    expect(fake.connections).toHaveLength(2);
    client.close();
  });

  it('makes no attempt while navigator.onLine is false, and connects on online', async () => {
    page.navigator.onLine = false;
    const { client, fake, states } = fakeClient({}, ['websocket']);
    await flush();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(fake.connections).toHaveLength(0);
    expect(client.state).toBe('connecting');
    page.navigator.onLine = true;
    page.fire('online');
    await flush();
    fake.last().welcome();
    expect(states.map((s) => s.to)).toEqual(['open']);
    client.close();
  });

  it('burns no attempts while offline after a drop: the backoff resumes where it was', async () => {
    const { client, fake } = fakeClient({ reconnect: { initialDelay: 1000, maxDelay: 60_000 } }, ['websocket']);
    await flush();
    fake.last().welcome();
    await vi.advanceTimersByTimeAsync(10_000);
    page.navigator.onLine = false;
    fake.last().fail();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(fake.connections).toHaveLength(1);
    page.navigator.onLine = true;
    page.fire('online');
    await flush();
    expect(fake.connections).toHaveLength(2);
    fake.last().fail();
    // Attempt 1 (the offline wait spent none): 0.5 × 1000 × 2.
    await vi.advanceTimersByTimeAsync(999);
    expect(fake.connections).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.connections).toHaveLength(3);
    client.close();
  });

  it('closes cleanly on pagehide without giving up, and reconnects and resumes on pageshow', async () => {
    const { client, fake, states, transports } = fakeClient({}, ['websocket']);
    await flush();
    const first = fake.last();
    first.welcome();
    const sub = client.subscribe('news');
    first.deliver(
      { type: 'subscribed', channel: 'news', epoch: 'e', seq: 3 },
      { type: 'msg', channel: 'news', epoch: 'e', seq: 4, data: 4 },
    );
    page.fire('pagehide');
    expect(first.closed).toBe(true);
    expect(client.state).toBe('reconnecting');
    expect(states.at(-1)).toEqual({ from: 'open', to: 'reconnecting', reason: 'pagehide' });
    expect(transports).toEqual(['websocket', null]);
    // Nothing runs in the back/forward cache.
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fake.connections).toHaveLength(1);
    page.fire('pageshow');
    await flush();
    fake.last().welcome();
    expect(client.state).toBe('open');
    expect(fake.last().frames('sub')).toEqual([{ type: 'sub', channel: 'news', since: { epoch: 'e', seq: 4 } }]);
    expect(sub.cursor).toEqual({ epoch: 'e', seq: 4 });
    client.close();
  });

  it('ignores a pageshow that did not follow a pagehide (the first load)', async () => {
    const { client, fake } = fakeClient({}, ['websocket']);
    await flush();
    page.fire('pageshow');
    await flush();
    expect(fake.connections).toHaveLength(1);
    client.close();
  });

  it('adds its listeners on creation and removes every one on close', async () => {
    expect(page.listeners()).toBe(0);
    const { client } = fakeClient();
    expect(page.listeners()).toBe(4);
    client.close();
    expect(page.listeners()).toBe(0);
  });
});
