// LifelineServer.describeConnections: each open connection with its transport and the channels
// whose subscription is live, on every transport; gone once the connection closes.
import { afterEach, describe, expect, it } from 'vitest';
import { connectRaw, startServer, transports, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe.each(transports)('describeConnections over %s', (transport) => {
  it('lists the connection with its transport and only answered subscriptions, and forgets it once closed', async () => {
    // A short hold and heartbeat, so a long-poll connection that stops polling ends soon.
    t = await startServer({ heartbeat: 1000, longPollHold: 100, authorize: (_user, channel) => channel !== 'secret' });
    expect(t.server.describeConnections()).toEqual([]);
    const client = await connectRaw(transport, t.url);
    const [opened] = t.server.describeConnections();
    expect(opened).toEqual({ cid: expect.any(String), transport, channels: [] });
    await client.send([
      { type: 'sub', channel: 'news' },
      { type: 'sub', channel: 'secret' },
    ]);
    await client.frame('subscribed');
    await client.frame('error');
    expect(t.server.describeConnections()).toEqual([{ cid: opened!.cid, transport, channels: ['news'] }]);
    await client.send([{ type: 'unsub', channel: 'news' }]);
    await waitFor(() => expect(t!.server.describeConnections()).toEqual([{ cid: opened!.cid, transport, channels: [] }]));
    await client.close();
    await waitFor(() => expect(t!.server.describeConnections()).toEqual([]));
  });
});
