import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../protocol/index.js';

/** Answers with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/** Answers with the protocol's HTTP error body `{ error: { code, message } }`. */
export function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string, headers?: Record<string, string>): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

/** Raised by {@link readBody} when the body is larger than allowed. */
export class BodyTooLarge extends Error {}

/** A request body that is not UTF-8: refused, never decoded with replacement characters. */
export class BodyNotUtf8 extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Answers a body that could not be read: 413 when too large, 400 `BAD_JSON` when not UTF-8;
 * anything else (the request failed) ends the socket.
 */
export function answerBodyError(res: ServerResponse, error: unknown): void {
  if (error instanceof BodyTooLarge) sendTooLarge(res, error);
  else if (error instanceof BodyNotUtf8) sendError(res, 400, ErrorCode.BAD_JSON, error.message);
  else res.destroy();
}

/**
 * Bytes of an over-limit body read and thrown away before its 413: a client still writing
 * its body when the socket closes gets a reset (EPIPE) instead of the answer. Past this much,
 * the socket is cut at once.
 */
export const drainLimit = (max: number): number => Math.max(16 * 1024 * 1024, 4 * max);

/**
 * Reads a request body as UTF-8 text, refusing (without buffering it) one larger than `max`
 * bytes, and one that is not UTF-8 (BodyNotUtf8). A body over `max` is read to its end and
 * discarded (up to {@link drainLimit}) before the promise rejects, so that the 413 reaches a
 * client that writes its whole body before reading the answer.
 */
export function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge: BodyTooLarge | undefined =
      Number.isFinite(declared) && declared > max
        ? new BodyTooLarge(`Body of ${declared} bytes exceeds maxMessageSize (${max})`)
        : undefined;
    const cut = () => {
      req.off('data', onData);
      req.pause();
      reject(tooLarge);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        tooLarge ??= new BodyTooLarge(`Body exceeds maxMessageSize (${max} bytes)`);
        chunks.length = 0;
        if (size > drainLimit(max)) cut();
        return;
      }
      chunks.push(chunk);
    };
    if (tooLarge && declared > drainLimit(max)) {
      cut();
      return;
    }
    req.on('data', onData);
    req.on('end', () => {
      if (tooLarge) return reject(tooLarge);
      try {
        resolve(utf8.decode(Buffer.concat(chunks)));
      } catch {
        reject(new BodyNotUtf8('Body is not UTF-8'));
      }
    });
    req.on('error', reject);
  });
}

/**
 * Answers 413 for a body over the limit. `Connection: close`: a body too large to drain was
 * left unread, and a client that sends such bodies is better off on a fresh socket anyway.
 */
export function sendTooLarge(res: ServerResponse, error: BodyTooLarge, headers: Record<string, string> = {}): void {
  sendError(res, 413, ErrorCode.FRAME_TOO_LARGE, error.message, { ...headers, Connection: 'close' });
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/** Parses JSON text without throwing. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
