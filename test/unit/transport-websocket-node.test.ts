// The WebSocket transport with the `ws` package's WebSocket injected, as Node users do.
// No msw here: it would intercept the upgrade request.
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { websocket } from '../../src/websocket.js';
import { recordingContext, settle } from '../helpers/transport-context.js';

describe('websocket transport with the ws package', () => {
  it('does not crash a Node process using `ws` when closed during a hanging upgrade', async () => {
    // A TCP server that accepts and never answers: the upgrade hangs, like a blackholed proxy.
    const sockets: Socket[] = [];
    const gone = vi.fn();
    const blackhole = createServer((socket) => {
      sockets.push(socket);
      socket.resume(); // reading is what lets the client's FIN show up as 'close'
      socket.on('close', gone);
    });
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const { port } = blackhole.address() as { port: number };
    try {
      const { ctx, closes } = recordingContext(`http://127.0.0.1:${port}/rt`, {
        WebSocket: NodeWebSocket as unknown as typeof globalThis.WebSocket,
      });
      const transport = websocket(ctx);
      await vi.waitFor(() => expect(sockets).toHaveLength(1));
      transport.close();
      await vi.waitFor(() => expect(gone).toHaveBeenCalled());
      await settle();
      expect(closes).toEqual([]);
    } finally {
      await new Promise((resolve) => blackhole.close(resolve));
    }
  });

  it.each([
    ['the global WebSocket (Node 20 reports only an error here)', undefined],
    ['the ws package', NodeWebSocket as unknown as typeof globalThis.WebSocket],
  ])('reports a refused upgrade at once with %s', async (_, WebSocket) => {
    const http = createHttpServer();
    http.on('upgrade', (_request, socket: Socket) => socket.destroy());
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as { port: number };
    try {
      const { ctx, closes } = recordingContext(`http://127.0.0.1:${port}/rt`, { WebSocket });
      websocket(ctx);
      await vi.waitFor(() => expect(closes).toEqual([{ code: 1006, reason: expect.any(String) }]));
      await settle();
      expect(closes).toHaveLength(1);
    } finally {
      await new Promise((resolve) => http.close(resolve));
    }
  });
});
