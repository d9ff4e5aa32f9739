// Resume and fan-out against brokers that misbehave on purpose: slow reads racing live
// messages, a live feed that skips a message, an epoch that changes, one broker subscription per channel.
import { afterEach, describe, expect, it } from 'vitest';
import type { MsgFrame } from '../../src/protocol/index.js';
import { memoryBroker, type Broker, type ServerOptions, type StoredMessage } from '../../src/server.js';
import { connectRaw, startServer, transports, until, type TestServer } from '../helpers/server.js';

let t: TestServer | undefined;
const start = async (options: ServerOptions = {}) => (t = await startServer(options));
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** A promise with its resolve function, to hold a broker call until the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

const msgSeqs = (frames: { type: string }[]) => frames.filter((f): f is MsgFrame => f.type === 'msg').map((f) => f.seq);

describe.each(transports)('%s resume races', (transport) => {
  it.each(['before', 'after'] as const)(
    'merges replay and live messages published during a slow read (history read %s them)',
    async (when) => {
      const inner = memoryBroker();
      const held = gate();
      let holdReads = false;
      const broker: Broker = {
        ...inner,
        async read(channel, after) {
          if (!holdReads) return inner.read(channel, after);
          const early = when === 'before' ? await inner.read(channel, after) : undefined;
          await held.opened;
          return early ?? inner.read(channel, after);
        },
      };
      const { url, server } = await start({ broker });
      let epoch = '';
      for (let i = 1; i <= 3; i++) ({ epoch } = await server.publish('race', i));
      const c = await connectRaw(transport, url);
      holdReads = true;
      await c.send([{ type: 'sub', channel: 'race', since: { epoch, seq: 1 } }]);
      await until(() => server.connections === 1);
      // Published while the subscribe is between its live subscription and its history read.
      await new Promise((resolve) => setTimeout(resolve, 30));
      await server.publish('race', 4);
      await server.publish('race', 5);
      held.open();
      await c.frame('subscribed');
      await c.frame('msg', (m) => m.seq === 5);
      await server.publish('race', 6);
      await c.frame('msg', (m) => m.seq === 6);
      expect(msgSeqs(c.messages.flat())).toEqual([2, 3, 4, 5, 6]);
    },
  );
});

describe('live feed repair and sharing', () => {
  it('reads a message the live feed skipped from history before forwarding the next', async () => {
    const inner = memoryBroker();
    const broker: Broker = {
      ...inner,
      subscribe: (channel, listener) =>
        inner.subscribe(channel, (m: StoredMessage) => {
          if (m.seq !== 2) listener(m);
        }),
    };
    const { url, server } = await start({ broker });
    const c = await connectRaw('websocket', url);
    await c.send([{ type: 'sub', channel: 'holes' }]);
    await c.frame('subscribed');
    for (let i = 1; i <= 4; i++) await server.publish('holes', i);
    await c.frame('msg', (m) => m.seq === 4);
    expect(msgSeqs(c.messages.flat())).toEqual([1, 2, 3, 4]);
  });

  it('announces an epoch change in the live feed as a gap', async () => {
    const inner = memoryBroker();
    let live: ((m: StoredMessage) => void) | undefined;
    const broker: Broker = {
      ...inner,
      subscribe: (channel, listener) => {
        live = listener;
        return inner.subscribe(channel, listener);
      },
    };
    const { url, server } = await start({ broker });
    const c = await connectRaw('sse', url);
    await c.send([{ type: 'sub', channel: 'e' }]);
    const { epoch } = await c.frame('subscribed');
    await server.publish('e', 'old');
    await c.frame('msg');
    live!({ channel: 'e', epoch: 'new-epoch', seq: 1, data: 'new' });
    expect(await c.frame('gap')).toEqual({
      type: 'gap',
      channel: 'e',
      epoch: 'new-epoch',
      seq: 0,
      reason: 'epoch',
      from: { epoch, seq: 1 },
    });
    expect(await c.frame('msg')).toMatchObject({ epoch: 'new-epoch', seq: 1, data: 'new' });
  });

  it('holds one broker subscription per channel for all local subscribers, and ends it with the last', async () => {
    const inner = memoryBroker();
    let active = 0;
    let calls = 0;
    const broker: Broker = {
      ...inner,
      async subscribe(channel, listener) {
        calls++;
        active++;
        const stop = await inner.subscribe(channel, listener);
        return () => {
          active--;
          stop();
        };
      },
    };
    const { url, server } = await start({ broker });
    const clients = [];
    for (const transport of transports) {
      const c = await connectRaw(transport, url);
      await c.send([{ type: 'sub', channel: 'shared' }]);
      await c.frame('subscribed');
      clients.push(c);
    }
    expect([calls, active]).toEqual([1, 1]);
    await server.publish('shared', 'x');
    for (const c of clients) expect((await c.frame('msg')).data).toBe('x');
    for (const c of clients) {
      await c.send([{ type: 'unsub', channel: 'shared' }, { type: 'ping' }]);
      await c.frame('pong');
    }
    expect(active).toBe(0);
  });

  it('answers BROKER_UNAVAILABLE when the broker fails a subscribe or publish, and keeps the connection', async () => {
    const inner = memoryBroker();
    const broker: Broker = {
      ...inner,
      subscribe: () => Promise.reject(new Error('redis down')),
      publish: () => Promise.reject(new Error('redis down')),
    };
    const { url } = await start({ broker });
    const c = await connectRaw('websocket', url);
    await c.send([{ type: 'sub', channel: 'x', rid: 'r1' }, { type: 'ping' }]);
    expect(await c.frame('error')).toMatchObject({ code: 'BROKER_UNAVAILABLE', channel: 'x', rid: 'r1' });
    await c.frame('pong');
    await c.send([{ type: 'pub', id: 'p', channel: 'x', data: 1 }]);
    const error = await c.frame('error');
    // A failed publish may have landed: it is reported, not refused (no id), and retried.
    expect(error).toMatchObject({ code: 'BROKER_UNAVAILABLE' });
    expect(error).not.toHaveProperty('id');
  });

  it('retries a publish the broker failed with the same id and acks it once it lands', async () => {
    const inner = memoryBroker();
    let failures = 2;
    const ids: (string | undefined)[] = [];
    const broker: Broker = {
      ...inner,
      publish: (channel, data, id) => {
        ids.push(id);
        // The first attempt lands but its reply is lost, as with a Redis command timeout.
        if (failures-- > 0) return inner.publish(channel, data, id).then(() => Promise.reject(new Error('timeout')));
        return inner.publish(channel, data, id);
      },
    };
    const { url, server } = await start({ broker });
    const c = await connectRaw('websocket', url);
    await c.send([{ type: 'pub', id: 'p', channel: 'x', data: 'once' }]);
    expect(await c.frame('error')).toMatchObject({ code: 'BROKER_UNAVAILABLE' });
    expect(await c.frame('ack', undefined, 5000)).toMatchObject({ id: 'p', channel: 'x', seq: 1 });
    expect(ids).toEqual(['p', 'p', 'p']);
    expect((await inner.read('x', 0)).messages.map((m) => m.data)).toEqual(['once']);
    expect((await server.publish('x', 'next')).seq).toBe(2);
  });

  it('keeps retrying a subscribe the broker failed and completes it once the broker is back', async () => {
    const inner = memoryBroker();
    let down = true;
    const broker: Broker = {
      ...inner,
      subscribe: (channel, listener) => (down ? Promise.reject(new Error('redis down')) : inner.subscribe(channel, listener)),
    };
    const { url, server } = await start({ broker });
    const c = await connectRaw('websocket', url);
    await c.send([{ type: 'sub', channel: 'x' }]);
    expect(await c.frame('error')).toMatchObject({ code: 'BROKER_UNAVAILABLE', channel: 'x' });
    down = false;
    const subscribed = await c.frame('subscribed');
    expect(subscribed).toMatchObject({ channel: 'x', seq: 0 });
    await server.publish('x', 'back');
    expect(await c.frame('msg')).toMatchObject({ channel: 'x', seq: 1, data: 'back' });
  });

  it('stops retrying a failed subscribe after unsub', async () => {
    const inner = memoryBroker();
    let calls = 0;
    const broker: Broker = { ...inner, subscribe: () => (calls++, Promise.reject(new Error('redis down'))) };
    const { url } = await start({ broker });
    const c = await connectRaw('websocket', url);
    await c.send([{ type: 'sub', channel: 'x' }]);
    await c.frame('error');
    await c.send([{ type: 'unsub', channel: 'x' }, { type: 'ping' }]);
    await c.frame('pong');
    const after = calls;
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(calls).toBe(after);
  });

  it('reports a failed subscribe once per outage, not once per retry', async () => {
    const inner = memoryBroker();
    let calls = 0;
    const broker: Broker = {
      ...inner,
      // Down for the first three attempts (the first two retries come within about 0.75 s).
      subscribe: (channel, listener) => (++calls <= 3 ? Promise.reject(new Error('redis down')) : inner.subscribe(channel, listener)),
    };
    const { url } = await start({ broker });
    const c = await connectRaw('websocket', url);
    await c.send([{ type: 'sub', channel: 'x' }]);
    await c.frame('subscribed', undefined, 5000);
    expect(calls).toBe(4);
    const errors = c.messages.flat().filter((f) => f.type === 'error');
    expect(errors).toEqual([expect.objectContaining({ code: 'BROKER_UNAVAILABLE', channel: 'x' })]);
  });

  it("a publish the broker keeps failing holds back none of the connection's other frames", async () => {
    const inner = memoryBroker();
    let down = true;
    let subscribes = 0;
    const broker: Broker = {
      ...inner,
      subscribe: (channel, listener) => (subscribes++, down ? Promise.reject(new Error('redis down')) : inner.subscribe(channel, listener)),
      publish: (channel, data, id) => (down ? Promise.reject(new Error('redis down')) : inner.publish(channel, data, id)),
    };
    const { url } = await start({ broker });
    const c = await connectRaw('websocket', url);
    await c.send([{ type: 'pub', id: 'p1', channel: 'x', data: 'held' }]);
    expect(await c.frame('error')).toMatchObject({ code: 'BROKER_UNAVAILABLE' });
    // While that publish is retried: a ping is answered, a subscribe is tried, and an unsub
    // stops the subscribe's retries, so no `subscribed` can come for a channel left.
    await c.send([{ type: 'sub', channel: 'y' }, { type: 'ping' }]);
    expect(await c.frame('error', (f) => f.channel === 'y', 5000)).toMatchObject({ code: 'BROKER_UNAVAILABLE' });
    await c.frame('pong', undefined, 5000);
    await c.send([{ type: 'unsub', channel: 'y' }, { type: 'ping' }]);
    await c.frame('pong', undefined, 5000);
    const after = subscribes;
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(subscribes).toBe(after);
    down = false;
    expect(await c.frame('ack', undefined, 10_000)).toMatchObject({ id: 'p1', channel: 'x', seq: 1 });
    expect(c.messages.flat().filter((f) => f.type === 'subscribed')).toEqual([]);
    expect((await inner.read('x', 0)).messages.map((m) => m.data)).toEqual(['held']);
  });
});
