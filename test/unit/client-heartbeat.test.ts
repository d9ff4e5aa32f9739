// Heartbeats: deadline-based dead-connection detection, client pings on WebSocket only,
// pong answers, and the visibilitychange re-check that catches a throttled timer.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeClient, flush } from '../helpers/fake-transport.js';
import { fakePage } from '../helpers/fake-page.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

async function openOn(transport: 'websocket' | 'sse', heartbeat: number) {
  const setup = fakeClient({}, [transport]);
  await flush();
  setup.fake.last().welcome({ heartbeat });
  return { ...setup, link: setup.fake.last() };
}

describe('heartbeat', () => {
  it('declares the connection dead after heartbeat + half of it without any frame, and reconnects', async () => {
    const { client, link, errors, states } = await openOn('sse', 10_000);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(client.state).toBe('open');
    await vi.advanceTimersByTimeAsync(1);
    expect(client.state).toBe('reconnecting');
    expect(states.at(-1)).toEqual({ from: 'open', to: 'reconnecting', reason: 'HEARTBEAT_TIMEOUT' });
    expect(errors.map((e) => e.code)).toEqual(['HEARTBEAT_TIMEOUT']);
    expect(link.closed).toBe(true);
    client.close();
  });

  it('pushes the deadline on every wire message, even an empty one', async () => {
    const { client, link } = await openOn('sse', 10_000);
    await vi.advanceTimersByTimeAsync(14_000);
    link.raw('[]');
    await vi.advanceTimersByTimeAsync(14_000);
    link.deliver({ type: 'ping' });
    await vi.advanceTimersByTimeAsync(15_000);
    expect(client.state).toBe('open');
    await vi.advanceTimersByTimeAsync(1);
    expect(client.state).toBe('reconnecting');
    client.close();
  });

  it('grants at least 500 ms of grace, so a 500 ms heartbeat finds a dead connection in a second', async () => {
    const { client } = await openOn('sse', 500);
    await vi.advanceTimersByTimeAsync(1000);
    expect(client.state).toBe('open');
    await vi.advanceTimersByTimeAsync(1);
    expect(client.state).toBe('reconnecting');
    client.close();
  });

  it('pings on WebSocket when nothing was sent for an interval, and answers server pings with pong', async () => {
    const { client, link } = await openOn('websocket', 10_000);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(link.frames('ping')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(link.frames('ping')).toHaveLength(1);
    link.deliver({ type: 'ping' });
    expect(link.frames('pong')).toHaveLength(1);
    client.close();
  });

  it('never pings or pongs on SSE', async () => {
    const { client, link } = await openOn('sse', 10_000);
    link.deliver({ type: 'ping' });
    await vi.advanceTimersByTimeAsync(12_000);
    link.deliver({ type: 'ping' });
    expect(link.sent).toEqual([]);
    client.close();
  });

  it('checks the deadline at once when the page becomes visible (a throttled timer cannot hide a dead connection)', async () => {
    const page = fakePage();
    const { client, errors } = await openOn('sse', 10_000);
    page.setVisibility('hidden');
    // The clock moves while timers stay frozen, as in a throttled background tab.
    vi.setSystemTime(Date.now() + 60_000);
    page.setVisibility('hidden');
    expect(client.state).toBe('open');
    page.setVisibility('visible');
    expect(client.state).toBe('reconnecting');
    expect(errors.map((e) => e.code)).toEqual(['HEARTBEAT_TIMEOUT']);
    client.close();
  });

  it('keeps a healthy connection when the page becomes visible', async () => {
    const page = fakePage();
    const { client } = await openOn('sse', 10_000);
    vi.setSystemTime(Date.now() + 5_000);
    page.setVisibility('visible');
    expect(client.state).toBe('open');
    client.close();
  });
});
