// A TCP relay on 127.0.0.1 in front of one server, for the page-side fault scenarios (a
// smaller cousin of e2e/fault-proxy.ts that needs no TypeScript build):
//   upgrade: 'pass' | 'refuse' (HTTP 403, as a proxy that forbids WebSockets) | 'blackhole'
//            (the connection is accepted and never answered: Chromium's WebSocket hangs)
//   latency: ms added to every chunk in each direction, order kept
//   destroyAll(): every relayed socket is destroyed at once (a network drop)
import net from 'node:net';

const upgradeHeader = /\r\nupgrade:\s*websocket/i;

export async function startFaultRelay(targetPort, { upgrade = 'pass', latency = 0 } = {}) {
  const modes = { upgrade, latency };
  const stats = { connections: 0, refused: 0, blackholed: 0, destroyed: 0 };
  const sockets = new Set();

  /** Writes chunks to `to` after `modes.latency` ms, in order. */
  const delayed = (to) => {
    let due = 0;
    return (chunk) => {
      if (modes.latency <= 0) return to.write(chunk);
      due = Math.max(due, Date.now() + modes.latency);
      setTimeout(() => to.destroyed || to.write(chunk), due - Date.now());
    };
  };

  const server = net.createServer((client) => {
    stats.connections++;
    sockets.add(client);
    client.on('error', () => client.destroy());
    client.on('close', () => sockets.delete(client));
    client.once('data', (first) => {
      if (upgradeHeader.test(first.toString('latin1', 0, Math.min(first.length, 4096)))) {
        if (modes.upgrade === 'refuse') {
          stats.refused++;
          client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
          return;
        }
        if (modes.upgrade === 'blackhole') {
          stats.blackholed++;
          return;
        }
      }
      const upstream = net.connect(targetPort, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('error', () => upstream.destroy());
      const end = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(upstream);
      };
      client.on('close', end);
      upstream.on('close', end);
      const toUpstream = delayed(upstream);
      const toClient = delayed(client);
      toUpstream(first);
      client.on('data', toUpstream);
      upstream.on('data', toClient);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    modes,
    stats,
    destroyAll() {
      stats.destroyed += sockets.size;
      for (const socket of sockets) socket.destroy();
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
