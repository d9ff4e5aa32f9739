// A TCP relay on 127.0.0.1 that counts the bytes going each way (headers, framing and all):
// what "bytes on the wire" means in the tables.
import net from 'node:net';

export async function startCountingProxy(targetPort) {
  const counts = { down: 0, up: 0 };
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (chunk) => (counts.up += chunk.length));
    upstream.on('data', (chunk) => (counts.down += chunk.length));
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    counts,
    reset() {
      counts.down = 0;
      counts.up = 0;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
