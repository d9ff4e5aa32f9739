// Big messages both ways, under the real client and server, once per transport.
// Server → client: a burst or a resume's replay of many large messages used to go out as one
// wire message over the client's maxMessageSize, which the client refused, reconnected, and
// got again, forever. Client → server: publishes too big for the server are each refused by
// themselves and the connection stays up; queued while offline they used to be resent as one
// batch over the server's limit for a whole message (1009, or 413 on /send), again forever.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type ClientState, type LifelineError } from '../../src/index.js';
import type { TransportName } from '../../src/transports/transport.js';
import { redisBroker } from '../../src/server.js';
import { startRedis } from '../helpers/redis.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

const transports: TransportName[] = ['websocket', 'sse', 'longpoll'];
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function start(): Promise<TestServer> {
  // The defaults: frames up to 64 KiB, whole messages up to 100 of them (6.4 MB).
  const t = await startServer();
  cleanup.push(() => t.close());
  return t;
}

describe.each(transports)('big messages to a client over %s', (transport) => {
  // 20 messages of 60,000 characters: each under the server's 64 KiB limit, 1.2 MB together,
  // more than the client's default maxMessageSize of 1 MiB for one wire message.
  const big = (i: number) => `${i}:${'x'.repeat(60_000)}`;

  it('a burst of 1.2 MB published at once arrives whole, in order, once', async () => {
    const { url, server } = await start();
    const client = createClient(url, { transports: [transport], rememberTransport: false });
    cleanup.push(() => client.close());
    const errors: LifelineError[] = [];
    client.on('error', (error) => errors.push(error));
    const received: number[] = [];
    const sub = client.subscribe('feed');
    sub.on('message', (_data, { seq }) => received.push(seq));
    await waitFor(() => expect(sub.cursor).toBeDefined());
    await Promise.all(Array.from({ length: 20 }, (_, i) => server.publish('feed', big(i))));
    await waitFor(() => expect(received).toHaveLength(20));
    expect(received).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(errors).toEqual([]);
  });

  it('a resume replaying 1.2 MB of history arrives whole, in order, once', async () => {
    const { url, server } = await start();
    let epoch = '';
    for (let i = 0; i < 20; i++) epoch = (await server.publish('feed', big(i))).epoch;
    const client = createClient(url, { transports: [transport], rememberTransport: false });
    cleanup.push(() => client.close());
    const errors: LifelineError[] = [];
    client.on('error', (error) => errors.push(error));
    const received: string[] = [];
    client.subscribe('feed', { since: { epoch, seq: 0 } }).on('message', (data) => received.push(String(data).split(':')[0]!));
    await waitFor(() => expect(received).toHaveLength(20));
    expect(received).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(errors).toEqual([]);
  });

  it('a resume replaying 3 MB while live messages flow arrives whole, in order, once, without a slow-consumer close', async () => {
    const { url, server } = await start();
    let epoch = '';
    for (let i = 1; i <= 50; i++) epoch = (await server.publish('feed', big(i))).epoch;
    const client = createClient(url, { transports: [transport], rememberTransport: false });
    cleanup.push(() => client.close());
    const errors: LifelineError[] = [];
    client.on('error', (error) => errors.push(error));
    const seqs: number[] = [];
    client.subscribe('feed', { since: { epoch, seq: 0 } }).on('message', (_data, { seq }) => seqs.push(seq));
    // A live message every 10 ms while the replay drains (at most 3 s of them): each flush of
    // one finds the replay's backlog still on its way, which is no sign of a slow client.
    let last = 50;
    for (let n = 0; n < 300 && seqs.length < 50; n++) {
      last = (await server.publish('feed', n)).seq;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await waitFor(() => expect(seqs).toHaveLength(last));
    expect(seqs).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(errors).toEqual([]);
  });
});

describe.each(transports)('big publishes over %s', (transport) => {
  it('twenty 500 KB publishes queued before the connection are each refused with FRAME_TOO_LARGE; the client stays connected', async () => {
    const { url, server } = await start();
    // An outbox large enough for all twenty: the server's refusal is what this is about.
    const client = createClient(url, {
      transports: [transport],
      rememberTransport: false,
      reconnect: { initialDelay: 20, maxDelay: 100 },
      outboxChars: 20_000_000,
    });
    cleanup.push(() => client.close());
    const states: ClientState[] = [];
    client.on('state', ({ to }) => states.push(to));

    // 10 MB in all, over the server's 6.4 MB limit for one message; each alone is under it.
    const refused: (LifelineError | undefined)[] = [];
    const big = Array.from({ length: 20 }, (_, i) =>
      client.publish('room', `${i}:${'x'.repeat(500_000)}`).then(
        () => refused.push(undefined),
        (error: LifelineError) => refused.push(error),
      ),
    );
    await waitFor(() => expect(refused).toHaveLength(20));
    await Promise.all(big);
    expect(refused.map((error) => error?.code)).toEqual(Array(20).fill('FRAME_TOO_LARGE'));
    expect(states).toEqual(['open']);

    // Nothing of them landed, and the connection still carries publishes.
    await expect(client.publish('room', 'small')).resolves.toMatchObject({ seq: 1 });
    expect((await server.publish('room', 'next')).seq).toBe(2);
    expect(states).toEqual(['open']);
  });

  it('a publish over the whole-message limit is refused by the client unsent, with no reconnect', async () => {
    const { url } = await start();
    const client = createClient(url, { transports: [transport], rememberTransport: false, reconnect: { initialDelay: 20, maxDelay: 100 } });
    cleanup.push(() => client.close());
    const states: ClientState[] = [];
    client.on('state', ({ to }) => states.push(to));
    await waitFor(() => expect(client.state).toBe('open'));
    // 7 M characters: over the server's 6.4 MB for a whole message, and over the client's
    // default 1 MiB, so it is refused before it could close the connection.
    await expect(client.publish('room', 'x'.repeat(7_000_000))).rejects.toMatchObject({ code: 'FRAME_TOO_LARGE' });
    await expect(client.publish('room', 'small')).resolves.toMatchObject({ seq: 1 });
    expect(states).toEqual(['open']);
  });
});

describe('a resume of several channels with big replays, on the Redis broker', () => {
  it("keeps the client: each channel's replay is its own flush, and each is a burst", { timeout: 30_000 }, async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.dispose());
    // Small maxSendBuffer, so that counting the later replays as backlog (16 × 128 KiB = 2 MiB)
    // would cut the client at the third of five 1.2 MB replays.
    const t = await startServer({ broker: redisBroker({ url: redis.url }), maxSendBuffer: 131_072 });
    cleanup.push(() => t.close());
    const cursors: Record<string, { epoch: string; seq: number }> = {};
    for (let c = 0; c < 5; c++) {
      for (let i = 0; i < 20; i++) {
        const { epoch } = await t.server.publish(`room${c}`, `${i}:${'x'.repeat(60_000)}`);
        cursors[`room${c}`] ??= { epoch, seq: 0 };
      }
    }
    // Long polling: its backlog is what the client has not acknowledged, so the replays still
    // wait when the next channel's comes (on loopback a WebSocket's kernel buffer hides that).
    const client = createClient(t.url, { transports: ['longpoll'], rememberTransport: false });
    cleanup.push(() => client.close());
    const errors: LifelineError[] = [];
    client.on('error', (error) => errors.push(error));
    const received: Record<string, number[]> = {};
    for (const channel of Object.keys(cursors)) {
      received[channel] = [];
      client.subscribe(channel, { since: cursors[channel] }).on('message', (_data, { seq }) => received[channel]!.push(seq));
    }
    await waitFor(() => expect(Object.values(received).every((seqs) => seqs.length === 20)).toBe(true));
    for (const seqs of Object.values(received)) expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(errors).toEqual([]);
  });
});
