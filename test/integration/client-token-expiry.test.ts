// A token that expires ends its connection (authentication is only checked at connect); the
// real client takes the `bye` as "fetch a fresh token and reconnect", on every transport.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type LifelineError } from '../../src/index.js';
import type { TransportName } from '../../src/transports/transport.js';
import { connectRaw, startServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait-for.js';

const transports: TransportName[] = ['websocket', 'sse', 'longpoll'];
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A server whose tokens `t<ms>` are valid for that many ms from when they are presented. */
async function start(): Promise<TestServer> {
  const t = await startServer({
    authenticate: ({ token }) => {
      const life = Number(/^t(\d+)$/.exec(token ?? '')?.[1]);
      return Number.isFinite(life) ? { user: 'u', expiresAt: Date.now() + life } : false;
    },
  });
  cleanup.push(() => t.close());
  return t;
}

describe.each(transports)('token expiry over %s', (transport) => {
  it('ends the connection with bye 4005 when expiresAt passes; the client refreshes its token and resumes, nothing lost', async () => {
    const t = await start();
    // The first token lives 300 ms, the ones after it a minute.
    const tokens: string[] = [];
    const client = createClient(t.url, {
      transports: [transport],
      rememberTransport: false,
      reconnect: { initialDelay: 20, maxDelay: 100 },
      token: () => {
        tokens.push(tokens.length === 0 ? 't300' : 't60000');
        return tokens.at(-1);
      },
    });
    cleanup.push(() => client.close());
    const errors: LifelineError[] = [];
    client.on('error', (error) => errors.push(error));
    const received: unknown[] = [];
    const sub = client.subscribe('feed');
    sub.on('message', (data) => received.push(data));
    await waitFor(() => expect(sub.cursor).toBeDefined());
    await t.server.publish('feed', 'before');
    await waitFor(() => expect(tokens).toHaveLength(2));
    await t.server.publish('feed', 'after');
    await waitFor(() => expect(received).toEqual(['before', 'after']));
    expect(client.state).toBe('open');
    expect(errors.map((e) => e.code)).toEqual(['SERVER_CLOSED']);
    expect(errors[0]!.message).toMatch(/^4005 token expired/);
    await expect(client.publish('feed', 'mine')).resolves.toMatchObject({ seq: 3 });
    // The fresh token's connection is not cut.
    expect(tokens).toHaveLength(2);
  });
});

describe('token expiry, raw', () => {
  it('closes a WebSocket with 4005 after bye 4005, and refuses a token already expired with UNAUTHORIZED', async () => {
    const t = await start();
    const c = await connectRaw('websocket', t.url, { token: 't200' });
    expect(await c.frame('bye')).toMatchObject({ code: 4005, reason: 'token expired' });
    expect((await c.ended).code).toBe(4005);
    await expect(connectRaw('longpoll', t.url, { token: 't0' })).rejects.toThrow(/401.*UNAUTHORIZED/);
  });
});
