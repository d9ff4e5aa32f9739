import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../protocol/index.js';
import { errorMessage } from './broker-failure.js';
import { jsonPublishOf } from './brokers/json-publish.js';
import type { ServerContext } from './context.js';
import { answerBodyError, bearerToken, parseJson, readBody, sendError, sendJson } from './http-util.js';
import { withinDepth } from './json-depth.js';

/** What a publish through the server produced. */
export interface PublishAck {
  channel: string;
  seq: number;
  epoch: string;
}

const sameKey = (given: string, expected: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

const validChannel = (value: unknown): value is string => typeof value === 'string' && value.length >= 1 && value.length <= 256;
const validId = (value: unknown): value is string => typeof value === 'string' && value.length >= 1 && value.length <= 64;

/**
 * The JSON text of `data` to publish, after the same rules as a `pub` frame: `data` must be
 * JSON nested at most `maxJsonDepth - 1` levels (TypeError) of at most `maxMessageSize` bytes
 * encoded (RangeError).
 */
function publishable(context: ServerContext, channel: string, data: unknown, id: string | undefined): string {
  if (!validChannel(channel)) throw new TypeError('publish: channel must be a string of 1–256 characters');
  if (data === undefined) throw new TypeError('publish: data is required (use null for nothing)');
  if (id !== undefined && !validId(id)) throw new TypeError('publish: id must be a string of 1–64 characters');
  const { maxJsonDepth, maxMessageSize } = context.options;
  // Checked before encoding: a value nested thousands of levels deep throws there, and one a
  // little less deep would throw later, on a flush to every subscriber.
  if (!withinDepth(data, maxJsonDepth - 1)) {
    throw new TypeError(`publish: data nests deeper than maxJsonDepth - 1 (${maxJsonDepth - 1} levels)`);
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch {
    // A cycle or a BigInt: reported below like a function or a symbol.
  }
  if (text === undefined) throw new TypeError('publish: data must be JSON (no cycles, functions, symbols or BigInts)');
  const size = Buffer.byteLength(text);
  if (size > maxMessageSize) throw new RangeError(`publish: data of ${size} bytes exceeds maxMessageSize (${maxMessageSize})`);
  return text;
}

/** Stores the JSON `text` of a checked publish; what the broker gets is always re-encodable. */
async function store(context: ServerContext, channel: string, text: string, id: string | undefined): Promise<PublishAck> {
  const { broker } = context.options;
  const json = jsonPublishOf(broker);
  const result = json ? await json(channel, text, id) : await broker.publish(channel, JSON.parse(text), id);
  return { channel, seq: result.seq, epoch: result.epoch };
}

/**
 * Publishes through the broker, checking the same rules as a `pub` frame (see
 * {@link publishable}). What the broker stores is the JSON of `data`, so a value that can't be
 * sent (a cycle, a function, a nesting too deep to encode again) never reaches a client.
 */
export async function publish(context: ServerContext, channel: string, data: unknown, id?: string): Promise<PublishAck> {
  return store(context, channel, publishable(context, channel, data, id), id);
}

/** `POST {path}/publish` for backends: `Authorization: Bearer <apiKey>`, body `{ channel, data, id? }`. */
export async function handlePublish(req: IncomingMessage, res: ServerResponse, context: ServerContext): Promise<void> {
  const { apiKey, maxMessageSize } = context.options;
  if (apiKey === undefined) {
    context.drain(req);
    return sendError(res, 404, ErrorCode.NOT_FOUND, 'The publish API is off: the server has no apiKey');
  }
  const token = bearerToken(req);
  if (token === undefined || !sameKey(token, apiKey)) {
    context.drain(req);
    return sendError(res, 401, ErrorCode.UNAUTHORIZED, 'Missing or wrong API key (Authorization: Bearer <key>)');
  }
  let text: string;
  try {
    text = await readBody(req, maxMessageSize);
  } catch (error) {
    answerBodyError(res, error);
    return;
  }
  const parsed = parseJson(text);
  if (!parsed.ok) return sendError(res, 400, ErrorCode.BAD_JSON, 'Body is not valid JSON');
  const value = parsed.value;
  const { maxJsonDepth } = context.options;
  if (!withinDepth(value, maxJsonDepth))
    return sendError(res, 400, ErrorCode.BAD_JSON, `Body nests deeper than maxJsonDepth (${maxJsonDepth} levels)`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return sendError(res, 400, ErrorCode.BAD_FRAME, 'Body must be a JSON object { "channel": string, "data": any, "id"?: string }');
  }
  const fields = new Map(Object.entries(value));
  const channel = fields.get('channel');
  const data = fields.get('data');
  const id = fields.get('id');
  if (!validChannel(channel)) return sendError(res, 400, ErrorCode.BAD_FRAME, '"channel" must be a string of 1–256 characters');
  if (data === undefined) return sendError(res, 400, ErrorCode.BAD_FRAME, '"data" is required (use null for nothing)');
  if (id !== undefined && !validId(id)) return sendError(res, 400, ErrorCode.BAD_FRAME, '"id" must be a string of 1–64 characters');
  let checked: string;
  try {
    checked = publishable(context, channel, data, id);
  } catch (error) {
    // About the body, never a 503 that a backend would retry forever.
    if (error instanceof RangeError) return sendError(res, 413, ErrorCode.FRAME_TOO_LARGE, error.message);
    return sendError(res, 400, ErrorCode.BAD_FRAME, errorMessage(error));
  }
  try {
    sendJson(res, 200, await store(context, channel, checked, id));
  } catch (error) {
    sendError(res, 503, ErrorCode.BROKER_UNAVAILABLE, `Publish failed: ${errorMessage(error)}`);
  }
}

/** `GET {path}/health`. */
export function handleHealth(res: ServerResponse, context: ServerContext): void {
  if (context.stopping) return sendJson(res, 503, { status: 'stopping', connections: context.connections.size });
  let broker: { ok: boolean; detail?: string };
  try {
    const health = context.options.broker.health();
    broker = health.detail === undefined ? { ok: health.ok } : { ok: health.ok, detail: health.detail };
  } catch (error) {
    broker = { ok: false, detail: errorMessage(error) };
  }
  sendJson(res, 200, { status: broker.ok ? 'ok' : 'degraded', connections: context.connections.size, broker });
}
