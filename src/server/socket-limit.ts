import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCode } from '../protocol/index.js';
import { IpLimiter, clientIp } from './limits.js';

/**
 * Caps the open sockets per peer address on a server Lifeline owns. Connections per IP are
 * counted once a client connects; this counts every socket before any byte is read, so idle
 * keep-alives, slowloris headers and never-used sockets can't pile up from one address.
 * Returns the function that removes the cap.
 */
export function limitSocketsPerIp(server: Server, max: number): () => void {
  const limiter = new IpLimiter(max);
  const onConnection = (socket: Socket) => {
    const ip = clientIp(socket);
    if (!limiter.acquire(ip)) {
      refuse(socket, max);
      return;
    }
    socket.once('close', () => limiter.release(ip));
  };
  // Before the HTTP server's own listener, so a refused socket is answered before it is parsed.
  server.prependListener('connection', onConnection);
  return () => server.off('connection', onConnection);
}

function refuse(socket: Socket, max: number): void {
  const body = JSON.stringify({ error: { code: ErrorCode.TOO_MANY_CONNECTIONS, message: `At most ${max} sockets per IP address` } });
  socket.on('error', () => socket.destroy());
  socket.end(
    // Refused before its request is read, so its Origin is unknown: readable from any origin.
    `HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json; charset=utf-8\r\nAccess-Control-Allow-Origin: *\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  socket.once('finish', () => socket.destroy());
}
