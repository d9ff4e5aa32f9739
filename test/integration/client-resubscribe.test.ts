// subscribe → unsubscribe → subscribe of one channel while connected (what React's StrictMode
// does on every mount), under the real client and server, once per transport. The server
// answers both `sub` frames; the answer to the first must not reset the second subscription.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type Cursor } from '../../src/index.js';
import type { TransportName } from '../../src/transports/transport.js';
import { startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

const transports: TransportName[] = ['websocket', 'sse', 'longpoll'];
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe.each(transports)('unsubscribe and subscribe again over %s', (transport) => {
  async function connected() {
    const t = await startServer();
    cleanup.push(() => t.close());
    for (let i = 1; i <= 3; i++) await t.server.publish('room', `m${i}`);
    const client = createClient(t.url, { transports: [transport], rememberTransport: false });
    cleanup.push(() => client.close());
    await waitFor(() => expect(client.state).toBe('open'));
    return { client, server: t.server };
  }

  /** Mounts a subscription the way a component effect would, recording what it delivers. */
  function mount(client: ReturnType<typeof createClient>, since?: Cursor) {
    const sub = client.subscribe('room', { since });
    const seqs: number[] = [];
    const gaps: string[] = [];
    sub.on('message', (_data, { seq }) => seqs.push(seq));
    sub.on('gap', ({ reason }) => gaps.push(reason));
    return { sub, seqs, gaps };
  }

  it('with a cursor from another epoch: one gap, then the history once', async () => {
    const { client, server } = await connected();
    const saved = { epoch: 'an-older-epoch', seq: 42 };
    mount(client, saved).sub.unsubscribe();
    const second = mount(client, saved);
    await waitFor(() => expect(second.seqs.length).toBeGreaterThanOrEqual(3));
    await server.publish('room', 'm4');
    await waitFor(() => expect(second.seqs).toContain(4));
    expect(second.seqs).toEqual([1, 2, 3, 4]);
    expect(second.gaps).toEqual(['epoch']);
  });

  it('with different cursors: the second one wins, each message once', async () => {
    const { client, server } = await connected();
    const { epoch } = await server.publish('room', 'm4');
    // The first asks from seq 2 of this epoch, the second from a cursor of an older one.
    mount(client, { epoch, seq: 2 }).sub.unsubscribe();
    const second = mount(client, { epoch: 'an-older-epoch', seq: 9 });
    await waitFor(() => expect(second.seqs).toContain(4));
    await server.publish('room', 'm5');
    await waitFor(() => expect(second.seqs).toContain(5));
    expect(second.seqs).toEqual([1, 2, 3, 4, 5]);
    expect(second.gaps).toEqual(['epoch']);
  });

  it('without a cursor: live messages once, from the head', async () => {
    const { client, server } = await connected();
    mount(client).sub.unsubscribe();
    const second = mount(client);
    await waitFor(() => expect(second.sub.cursor).toBeDefined());
    for (let i = 4; i <= 6; i++) await server.publish('room', `m${i}`);
    await waitFor(() => expect(second.seqs).toContain(6));
    expect(second.seqs).toEqual([4, 5, 6]);
  });
});
