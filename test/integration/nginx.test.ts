// The documented nginx configs (docs/deploy/nginx-*.conf, quoted verbatim in docs/deploy.md) run in
// Debian's nginx on a free non-default port, in front of real nodes, with the real client on
// every transport sending the Origin a page served through nginx would send; and through
// `nginx -s reload` mid-stream.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocketNode from 'ws';
import { createClient, type Client } from '../../src/index.js';
import { createServer } from '../../src/server.js';
import { range, record, startNode } from '../helpers/multi-node.js';
import { siteConfig, startNginx, type NginxProcess } from '../helpers/nginx.js';
import { startRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanup: (() => unknown)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const single = new URL('../../docs/deploy/nginx-single.conf', import.meta.url);
const many = new URL('../../docs/deploy/nginx-many.conf', import.meta.url);
const transports = ['websocket', 'sse', 'longpoll'] as const;

/** Every request carries `Origin: origin`, as from a page served through nginx. */
function connectThrough(nginx: NginxProcess, transport: (typeof transports)[number]): Client {
  const origin = `http://127.0.0.1:${nginx.port}`;
  const withOrigin: typeof fetch = (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as object), Origin: origin } });
  const client = createClient(`${origin}/rt`, {
    transports: [transport],
    rememberTransport: false,
    reconnect: { initialDelay: 50, maxDelay: 200 },
    fetch: withOrigin,
    EventSource: class extends EventSource {
      constructor(url: string | URL, init?: EventSourceInit) {
        super(url, { ...init, fetch: withOrigin } as EventSourceInit);
      }
    },
    WebSocket: class extends WebSocketNode {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols, { origin });
      }
    } as unknown as typeof WebSocket,
  });
  cleanup.push(() => client.close());
  return client;
}

async function singleNode(): Promise<NginxProcess> {
  const server = createServer({ heartbeat: 2000 });
  const { port } = await server.listen(0, '127.0.0.1');
  cleanup.push(() => server.close());
  const nginx = await startNginx((listen) =>
    siteConfig(single, [
      ['listen 80;', `listen 127.0.0.1:${listen};`],
      ['127.0.0.1:3000', `127.0.0.1:${port}`],
    ]),
  );
  cleanup.push(() => nginx.dispose());
  return nginx;
}

/** Publishes from the client and checks that every message comes back once, in order. */
async function roundTrip(client: Client, channel: string, count: number) {
  const feed = record(client, channel);
  await waitFor(() => expect(feed.sub.cursor).toBeDefined());
  for (let i = 1; i <= count; i++) await client.publish(channel, i);
  await waitFor(() => expect(feed.data()).toEqual(range(1, count)));
  expect(feed.seqs()).toEqual(range(1, count));
  expect(feed.gaps).toEqual([]);
}

describe('docs/deploy.md quotes the nginx configs verbatim', () => {
  it.each([single, many])('%s', (file) => {
    const page = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
    expect(page).toContain(`\`\`\`nginx\n${readFileSync(file, 'utf8')}\`\`\``);
  });
});

describe('one node behind the documented nginx config, on a non-default port', () => {
  it('accepts a page from its own host:port and refuses another origin', async () => {
    const nginx = await singleNode();
    const connectWith = (origin: string) =>
      fetch(`http://127.0.0.1:${nginx.port}/rt/connect`, {
        method: 'POST',
        headers: { Origin: origin },
        body: '{"v":1,"transport":"longpoll"}',
      });
    expect((await connectWith(`http://127.0.0.1:${nginx.port}`)).status).toBe(200);
    expect((await connectWith('http://evil.example')).status).toBe(403);
  });

  it.each(transports)('%s: messages both ways, exactly once and in order', async (transport) => {
    const nginx = await singleNode();
    const client = connectThrough(nginx, transport);
    await roundTrip(client, 'through-nginx', 20);
    expect(client.transport).toBe(transport);
  });

  it.each(transports)(
    '%s: keeps going through `nginx -s reload` mid-stream, exactly once and in order',
    { timeout: 30_000 },
    async (transport) => {
      const nginx = await singleNode();
      const client = connectThrough(nginx, transport);
      const states: string[] = [];
      client.on('state', ({ to }) => states.push(to));
      const feed = record(client, 'reload');
      await waitFor(() => expect(feed.sub.cursor).toBeDefined());
      const total = 60;
      const publishing = (async () => {
        for (let i = 1; i <= total; i++) {
          await client.publish('reload', i);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      await waitFor(() => expect(feed.messages.length).toBeGreaterThanOrEqual(10));
      await nginx.reload();
      await publishing;
      await waitFor(() => expect(feed.data()).toEqual(range(1, total)), 20_000);
      expect(feed.seqs()).toEqual(range(1, total));
      expect(feed.gaps).toEqual([]);
      // The old worker closed the open WebSocket or stream at worker_shutdown_timeout (2 s
      // here), and the client came back through a new worker.
      if (transport !== 'longpoll') expect(states).toContain('reconnecting');
    },
  );
});

describe('two nodes over Redis behind the documented many-node nginx config', () => {
  it.each(transports)('%s: messages both ways, exactly once and in order', { timeout: 30_000 }, async (transport) => {
    const redis = await startRedis();
    cleanup.push(() => redis.dispose());
    const [a, b] = [
      await startNode(redis, 'nginx:', (kill) => cleanup.push(kill)),
      await startNode(redis, 'nginx:', (kill) => cleanup.push(kill)),
    ];
    const nginx = await startNginx((listen) =>
      siteConfig(many, [
        ['listen 80;', `listen 127.0.0.1:${listen};`],
        ['10.0.0.11:3000', `127.0.0.1:${a.port}`],
        ['10.0.0.12:3000', `127.0.0.1:${b.port}`],
      ]),
    );
    cleanup.push(() => nginx.dispose());
    const client = connectThrough(nginx, transport);
    await roundTrip(client, 'many', 30);
    // Both nodes served it: with least_conn the stream or poll sits on one, the rest goes to the other.
    if (transport !== 'websocket') expect(a.requests.length > 0 && b.requests.length > 0).toBe(true);
  });
});
