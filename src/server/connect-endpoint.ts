import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, PROTOCOL_VERSION, decodeWire, isProblem } from '../protocol/index.js';
import type { ServerContext } from './context.js';
import { acceptFrames, maxWireSize, receiveFrames, screenFrames } from './inbound.js';
import { withinDepth } from './json-depth.js';
import { clientIp } from './limits.js';
import type { LongPollEndpoint } from './long-polling-endpoint.js';
import type { SseEndpoint } from './sse-endpoint.js';
import { answerBodyError, bearerToken, parseJson, readBody, sendError, sendJson } from './http-util.js';

/**
 * Reads a body, metered against its address's maxInboundRatePerIp (read no faster, and handed
 * on only once the address is within it), answering itself when it is too large or not UTF-8;
 * undefined means "already answered".
 */
async function body(req: IncomingMessage, res: ServerResponse, max: number, context: ServerContext): Promise<string | undefined> {
  const ip = clientIp(req.socket);
  context.meter.watch(ip, req, req);
  try {
    const text = await readBody(req, max);
    await context.meter.ready(ip);
    return text;
  } catch (error) {
    // readBody paused a body too large to drain: the meter must not resume it.
    context.meter.unwatch(req);
    answerBodyError(res, error);
    return undefined;
  }
}

/**
 * `POST {path}/connect` with `{ "v": 1, "transport": "sse" | "longpoll" }` and an optional
 * `Authorization: Bearer <token>`: authenticates and answers `{ cid }`.
 */
export async function handleConnect(
  req: IncomingMessage,
  res: ServerResponse,
  context: ServerContext,
  sse: SseEndpoint,
  longPoll: LongPollEndpoint,
): Promise<void> {
  const text = await body(req, res, context.options.maxMessageSize, context);
  if (text === undefined) return;
  const parsed = parseJson(text);
  if (!parsed.ok) return sendError(res, 400, ErrorCode.BAD_JSON, 'Body is not valid JSON');
  const value = parsed.value;
  const { maxJsonDepth } = context.options;
  if (!withinDepth(value, maxJsonDepth))
    return sendError(res, 400, ErrorCode.BAD_JSON, `Body nests deeper than maxJsonDepth (${maxJsonDepth} levels)`);
  const { v, transport } = (typeof value === 'object' && value !== null ? value : {}) as { v?: unknown; transport?: unknown };
  if (typeof v !== 'number' || (transport !== 'sse' && transport !== 'longpoll')) {
    return sendError(res, 400, ErrorCode.BAD_FRAME, 'Body must be { "v": 1, "transport": "sse" | "longpoll" }');
  }
  if (v !== PROTOCOL_VERSION) {
    return sendError(
      res,
      400,
      ErrorCode.UNSUPPORTED_VERSION,
      `Protocol version ${v} is not supported; this server speaks ${PROTOCOL_VERSION}`,
    );
  }
  const limited = context.rateLimited(clientIp(req.socket));
  if (limited) return sendError(res, 429, ErrorCode.RATE_LIMITED, limited.message, limited.headers);
  const auth = await context.authenticate(bearerToken(req), transport, req);
  if (!auth.ok) return sendError(res, 401, ErrorCode.UNAUTHORIZED, 'Authentication failed');
  if (context.stopping) return sendError(res, 503, ErrorCode.SHUTTING_DOWN, 'Server is shutting down');
  const ip = clientIp(req.socket);
  if (!context.limiter.acquire(ip)) {
    return sendError(res, 429, ErrorCode.TOO_MANY_CONNECTIONS, `At most ${context.options.maxConnectionsPerIp} connections per IP address`);
  }
  const cid = transport === 'sse' ? sse.issue(auth.principal, ip) : longPoll.start(auth.principal, ip);
  sendJson(res, 200, { cid, key: context.connectionKey(cid) });
}

/** The answer to `POST send`: 204, or an HTTP error. */
export type SendOutcome = { status: 204 } | { status: 400 | 404; code: ErrorCode; message: string };

/**
 * Hands the body of `POST send` to the connection `cid` of this node. Once this returns, the
 * frames are queued behind any earlier message of the connection, so answering afterwards
 * keeps the client's messages in order.
 */
export function deliverSend(context: ServerContext, cid: string, text: string): SendOutcome {
  const connection = context.connections.get(cid);
  if (!connection || connection.transport === 'websocket') {
    return { status: 404, code: ErrorCode.UNKNOWN_CONNECTION, message: 'Unknown or closed cid' };
  }
  const frames = decodeWire(text);
  if (isProblem(frames)) return { status: 400, code: frames.problem, message: frames.message };
  if (acceptFrames(connection, frames, context.options))
    receiveFrames(connection, screenFrames(connection, frames, text, context.options), Buffer.byteLength(text), context);
  return { status: 204 };
}

/** Writes a {@link SendOutcome}. */
function answerSend(res: ServerResponse, outcome: SendOutcome): void {
  if (outcome.status === 204) res.writeHead(204).end();
  else sendError(res, outcome.status, outcome.code, outcome.message);
}

/**
 * `POST {path}/send?cid=`: client frames for an SSE or long-poll connection; answers 204.
 * `relay`, when given, hands the body to the node that holds the connection and answers instead.
 */
export async function handleSend(
  req: IncomingMessage,
  res: ServerResponse,
  context: ServerContext,
  cid: string,
  relay?: (text: string) => Promise<void>,
): Promise<void> {
  const connection = context.connections.get(cid);
  if (!relay && (!connection || connection.transport === 'websocket')) {
    context.drain(req);
    return sendError(res, 404, ErrorCode.UNKNOWN_CONNECTION, 'Unknown or closed cid');
  }
  const text = await body(req, res, maxWireSize(context.options), context);
  if (text === undefined) return;
  if (relay) return relay(text);
  answerSend(res, deliverSend(context, cid, text));
}
